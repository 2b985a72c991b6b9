import ArgumentParser
import Foundation
import ResidueImage
import ResidueRules
import ResidueScan

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List and test detection rules.",
        subcommands: [List.self, Test.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the rules (built-in and --rules files).")

        @Option(name: .long, help: "An extra rule file (TOML); repeat for more.")
        var rules: [String] = []

        func run() throws {
            let ruleSet: RuleSet
            do { ruleSet = try RuleSet.defaults(extraFiles: rules) } catch { throw CLIError("\(error)") }
            for compiled in ruleSet.rules {
                let rule = compiled.rule
                print("\(rule.id.padding(toLength: 30, withPad: " ", startingAt: 0)) \(rule.severity.rawValue.padding(toLength: 9, withPad: " ", startingAt: 0)) \(rule.title)")
            }
            print("\("secret-named-variable".padding(toLength: 30, withPad: " ", startingAt: 0)) \("high".padding(toLength: 9, withPad: " ", startingAt: 0)) Credential in a variable whose name says so (built in)")
        }
    }

    struct Test: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run each rule's examples (must match) and counter-examples (must not).",
            discussion: "Without FILE, tests the built-in rules; with FILE, only the rules in it.")

        @Argument(help: "A rule file to test.")
        var file: String?

        func run() throws {
            let ruleSet: RuleSet
            do {
                if let file {
                    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw CLIError("\(file): cannot read rule file") }
                    ruleSet = try RuleSet(RuleLoader.parse(text, origin: file))
                } else {
                    ruleSet = try RuleSet.defaults()
                }
            } catch let error as CLIError { throw error } catch { throw CLIError("\(error)") }
            let failures = RuleTester.run(ruleSet)
            for failure in failures { print("FAIL \(failure)") }
            let samples = ruleSet.rules.reduce(0) { $0 + ($1.rule.examples?.count ?? 0) + ($1.rule.counterExamples?.count ?? 0) }
            print("\(ruleSet.rules.count) rules, \(samples) examples: \(failures.isEmpty ? "all passed" : "\(failures.count) failed")")
            if !failures.isEmpty { throw ExitCode(1) }
        }
    }
}
