import Foundation
@testable import ResidueImage
import XCTest

/// Selecting one image inside an archive or layout with the names Docker and buildx write:
/// `docker-archive:PATH:NAME:TAG` (a reference holds a colon too), buildx's full names
/// (`docker.io/library/NAME:TAG`) in OCI layouts, and docker's short image ids.
final class ImageSelectionTests: XCTestCase {
    /// A docker-archive holding two images (legacy.docker.tar's and docker25.docker.tar's),
    /// as `docker save a b` writes one: both images' files, one manifest.json listing both.
    func twoImageArchive(in folder: TemporaryFolder) throws -> String {
        let path = folder.file("two.tar")
        let script = """
        import json, sys, tarfile
        out = tarfile.open(sys.argv[1], "w")
        manifest, seen = [], set()
        for name in sys.argv[2:]:
            with tarfile.open(name) as tar:
                for member in tar.getmembers():
                    if member.name == "manifest.json":
                        manifest += json.load(tar.extractfile(member))
                    elif member.name not in seen and member.isfile():
                        seen.add(member.name)
                        out.addfile(member, tar.extractfile(member))
        data = json.dumps(manifest).encode()
        info = tarfile.TarInfo("manifest.json"); info.size = len(data)
        import io; out.addfile(info, io.BytesIO(data)); out.close()
        """
        let result = try Tools.run(["python3", "-c", script, path,
                                    CLI.packageRoot.appendingPathComponent("Fixtures/images/legacy.docker.tar").path,
                                    CLI.packageRoot.appendingPathComponent("Fixtures/images/docker25.docker.tar").path])
        XCTAssertEqual(result.status, 0, result.output)
        return path
    }

    func testDockerArchiveSelectsByNameAndTag() throws {
        let folder = TemporaryFolder("residue-two")
        let archive = try twoImageArchive(in: folder)
        let parsed = try ImageReference.parse("docker-archive:\(archive):residue/copy-rm:latest")
        XCTAssertEqual(parsed.location, archive)
        XCTAssertEqual(parsed.selector, "residue/copy-rm:latest")
        for (selector, name) in [("residue/copy-rm:latest", "residue/copy-rm:latest"),
                                 ("docker.io/residue/build-arg:latest", "residue/build-arg:latest"),
                                 ("residue/build-arg:latest", "residue/build-arg:latest"), ("@1", "residue/build-arg:latest")] {
            let result = try CLI.run(["scan", "docker-archive:\(archive):\(selector)", "--format", "json"])
            XCTAssertEqual(result.status, 1, "\(selector): \(result.stderr)")
            let images = (result.json?["target"] as? [String: Any])?["images"] as? [[String: Any]] ?? []
            XCTAssertEqual(images.count, 1, selector)
            XCTAssertEqual(images.first?["names"] as? [String], [name], selector)
        }
        let all = try CLI.run(["scan", "docker-archive:\(archive)", "--format", "json"])
        XCTAssertEqual(((all.json?["target"] as? [String: Any])?["images"] as? [Any])?.count, 2)
        let missing = try CLI.run(["scan", "docker-archive:\(archive):residue/none:1"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("no image tagged \"residue/none:1\""), missing.stderr)
    }

    /// buildx names an image in an OCI layout `docker.io/library/NAME:TAG` (io.containerd.image.name)
    /// with the tag alone as its ref name: the short and the full name both select it.
    func testOCILayoutSelectsBuildxNames() throws {
        let folder = TemporaryFolder("residue-buildx-names")
        let fixture = CLI.packageRoot.appendingPathComponent("Fixtures/images/oci").path
        let layout = folder.file("layout")
        XCTAssertEqual(try Tools.run(["cp", "-r", fixture, layout]).status, 0)
        let indexPath = layout + "/index.json"
        var index = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: indexPath))) as? [String: Any])
        var manifests = try XCTUnwrap(index["manifests"] as? [[String: Any]])
        let position = try XCTUnwrap(manifests.firstIndex { ($0["annotations"] as? [String: String])?["org.opencontainers.image.ref.name"] == "build-arg" })
        manifests[position]["annotations"] = ["org.opencontainers.image.ref.name": "1.0", "io.containerd.image.name": "docker.io/library/app:1.0"]
        index["manifests"] = manifests
        try JSONSerialization.data(withJSONObject: index).write(to: URL(fileURLWithPath: indexPath))
        let expected = try CLI.run(["scan", "oci:Fixtures/images/oci:build-arg", "--format", "json"])
        for selector in ["app:1.0", "docker.io/library/app:1.0", "1.0"] {
            let result = try CLI.run(["scan", "oci:\(layout):\(selector)", "--format", "json"])
            XCTAssertEqual(result.status, 1, "\(selector): \(result.stderr)")
            XCTAssertEqual(RegistryTestSupport.canonical(result.json?["findings"]), RegistryTestSupport.canonical(expected.json?["findings"]), selector)
        }
    }

    func testShortImageIDsHaveNoTag() throws {
        let byID = try DaemonSource(name: "3f2a9c1b7e44", settings: RegistrySettings(), environment: [:])
        XCTAssertEqual(byID.name, "3f2a9c1b7e44")
        let full = String(repeating: "ab", count: 32)
        XCTAssertEqual(try DaemonSource(name: full, settings: RegistrySettings(), environment: [:]).name, full)
        XCTAssertEqual(try DaemonSource(name: "app", settings: RegistrySettings(), environment: [:]).name, "app:latest")
        XCTAssertEqual(try DaemonSource(name: "cafe", settings: RegistrySettings(), environment: [:]).name, "cafe:latest")
        XCTAssertEqual(try DaemonSource(name: "localhost:5000/app", settings: RegistrySettings(), environment: [:]).name, "localhost:5000/app:latest")
    }
}
