import Foundation
import ResidueImage

/// Writes, for one finding, the Dockerfile change that keeps the secret out of the image:
/// a secret mount for build arguments and copied files, an SSH mount for keys, run-time
/// injection for ENV, a multi-stage build for what only the build needs.
struct Remediation {
    let history: ImageHistory

    func text(ruleId: String, location: Location) -> String {
        switch location.kind {
        case .history:
            if let key = location.key, let index = location.historyIndex {
                let instruction = history.instructions[index]
                if instruction.keyword == "ENV" { return forEnv(name: key) }
                if instruction.keyword == "LABEL" { return forLabel(name: key) }
                return forBuildArg(name: key, from: index)
            }
            return forCommandLine(location)
        case .configEnv:
            return forEnv(name: location.key ?? "VARIABLE")
        case .configLabel:
            return forLabel(name: location.key ?? "label")
        case .configCmd:
            return "CMD and ENTRYPOINT are part of the image config, readable by anyone who pulls the image (docker inspect). "
                + "Remove the credential from the command line and read it at run time instead: from an environment "
                + "variable set with `docker run -e NAME` / a Kubernetes Secret, or from a mounted secret file."
        case .configOther:
            return "This config field is readable by anyone who pulls the image. Remove the credential from it and supply it at run time."
        case .layerFile:
            return forFile(ruleId: ruleId, location: location)
        }
    }

    static func secretID(_ name: String) -> String { MountAdvice.secretID(name) }

    /// The RUN that needs build argument `name`: the first at or after `index` whose command
    /// reads `$NAME` (the classic builder records every build argument on every later RUN,
    /// used or not), else the first that saw it.
    func consumingRun(of name: String, from index: Int) -> Instruction? {
        let saw = history.instructions[index...].filter { $0.keyword == "RUN" && $0.buildArgs.contains { $0.name == name } }
        return saw.first { $0.arguments.contains("$\(name)") || $0.arguments.contains("${\(name)") } ?? saw.first
    }

    func forBuildArg(name: String, from index: Int) -> String {
        let id = Self.secretID(name)
        let command = consumingRun(of: name, from: index)?.arguments ?? "<command that needs \(name)>"
        let forms = MountAdvice.runForms(name: name, command: command)
        return """
        Build argument \(name) is written into the image history (every RUN after `ARG \(name)` records its value; `docker history --no-trunc` shows it). Pass it as a build secret instead, which is mounted only for that step and never stored:
          \(forms.env)
        or, for builders without `env=` (buildah, BuildKit < 0.13):
          \(forms.portable)
        Remove `ARG \(name)` and build with:
          docker build \(MountAdvice.buildSecret(id: id, env: name)) .
        """
    }

    func forEnv(name: String) -> String {
        let id = Self.secretID(name)
        return """
        ENV \(name) is stored in the image config: anyone who can pull the image reads it (docker inspect). Remove `ENV \(name)=…` and provide it at run time (`docker run -e \(name)`, a Kubernetes Secret, or a mounted secret file). If the build needs it, mount it for that step only:
          RUN \(MountAdvice.envMount(id: id, name: name)) <command>
          docker build \(MountAdvice.buildSecret(id: id, env: name)) .
        """
    }

    func forLabel(name: String) -> String {
        "LABEL \(name) is public image metadata (docker inspect shows it). Remove the credential from the label; labels are for non-secret information only."
    }

    func forCommandLine(_ location: Location) -> String {
        """
        This RUN command line is recorded in the image history. Read the secret from a build secret instead of writing it in the Dockerfile:
          RUN --mount=type=secret,id=token,env=TOKEN <command using $TOKEN>
          docker build --secret id=token,env=TOKEN .
        """
    }

    static func isSSHKey(ruleId: String, path: String) -> Bool {
        ruleId.hasPrefix("private-key") && (path.contains("/.ssh/") || path.split(separator: "/").last.map { $0.hasPrefix("id_") } ?? false)
    }

    /// The first RUN after the step that wrote the file: the step that used it.
    func usingRun(afterLayer layer: Int?) -> Instruction? {
        guard let layer, let index = history.historyIndex(forLayer: layer) else { return nil }
        return history.instructions[(index + 1)...].first { $0.keyword == "RUN" && !$0.arguments.hasPrefix("rm ") }
    }

    func forFile(ruleId: String, location: Location) -> String {
        let fullPath = location.path ?? "/path/to/file"
        let path = String(fullPath.split(separator: "!").first ?? Substring(fullPath))
        let fileName = (path as NSString).lastPathComponent
        let command = usingRun(afterLayer: location.layerIndex)?.arguments ?? "<command that needs it>"
        if Self.isSSHKey(ruleId: ruleId, path: path) {
            return """
            An SSH private key was copied into layer \(location.layerIndex ?? 0)\(statusClause(location.status)). Do not copy keys into the build: forward your SSH agent for the step that needs it:
              RUN \(MountAdvice.sshMount) \(command)
              docker build \(MountAdvice.buildSSH) .
            """
        }
        let id = Self.secretID(fileName)
        let mount = """
          RUN \(MountAdvice.targetMount(id: id, target: path)) \(command)
          docker build \(MountAdvice.buildSecret(id: id, src: fileName)) .
        """
        switch location.status {
        case .deleted?, .overwritten?:
            return """
            \(location.status == .deleted ? "Deleting" : "Overwriting") \(path) in a later layer does not remove it: layer \(location.layerIndex ?? 0) still holds it, and anyone who pulls the image can extract it. Replace the COPY\(location.status == .deleted ? " and the later rm" : "") with a secret mounted only for the step that uses it:
            \(mount)
            """
        default:
            return """
            \(path) ships in the final image. If only the build needs it, mount it for that step instead of copying it:
            \(mount)
            or do that step in a builder stage and `COPY --from=builder` only its output into the final stage. If the application needs it at run time, mount it at run time (a Kubernetes Secret, `docker run -v`) instead of baking it in.
            """
        }
    }

    func statusClause(_ status: Location.Status?) -> String {
        switch status {
        case .deleted?: return " and deleted later, which leaves it in that layer"
        case .overwritten?: return " and overwritten later, which leaves it in that layer"
        default: return ""
        }
    }
}
