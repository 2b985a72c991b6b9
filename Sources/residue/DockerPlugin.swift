import Foundation

/// residue as a Docker CLI plugin: installed as `~/.docker/cli-plugins/docker-residue`,
/// `docker residue scan app:dev` runs it.
///
/// The handshake (docker/cli `cli-plugins/manager`): docker runs the binary with
/// `docker-cli-plugin-metadata` and reads one JSON object (SchemaVersion, Vendor, Version,
/// ShortDescription); to run the plugin it passes the plugin's name as the first argument
/// (`docker-residue residue scan app:dev`). As a plugin, a bare image name means the local
/// daemon, as it does for every other docker command.
enum DockerPlugin {
    static let name = "residue"
    static let metadataCommand = "docker-cli-plugin-metadata"

    /// Whether docker started us as its plugin (not just a binary called docker-residue).
    static let isActive: Bool = {
        let arguments = CommandLine.arguments
        let program = (arguments.first.map { ($0 as NSString).lastPathComponent }) ?? ""
        return arguments.count > 1 && arguments[1] == name && program == "docker-" + name
    }()

    static func metadata(version: String) -> String {
        let object: [String: String] = [
            "SchemaVersion": "0.1.0",
            "Vendor": "residue",
            "Version": version,
            "ShortDescription": "Find the secrets that image builds leave behind",
        ]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// The arguments to parse: without the program, and without the plugin name docker adds.
    static func arguments(_ all: [String] = CommandLine.arguments) -> [String] {
        let rest = Array(all.dropFirst())
        return isActive ? Array(rest.dropFirst()) : rest
    }

    /// Prints the metadata and returns true when docker asks for it.
    static func answerMetadataRequest(version: String) -> Bool {
        guard CommandLine.arguments.count == 2, CommandLine.arguments[1] == metadataCommand else { return false }
        FileHandle.standardOutput.write(Data(metadata(version: version).utf8))
        return true
    }

    /// `app:dev` → `docker-daemon:app:dev`; references with a transport and existing paths
    /// are left as they are.
    static func defaultToDaemon(_ image: String) -> String {
        let transports = ["docker-archive:", "oci:", "oci-archive:", "docker://", "docker-daemon:"]
        if transports.contains(where: { image.hasPrefix($0) }) { return image }
        if FileManager.default.fileExists(atPath: image) { return image }
        return "docker-daemon:" + image
    }
}
