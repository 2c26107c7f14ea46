import ArgumentParser
import Foundation
import PlazoSodium
import PlazoWire

/// `plazo keys ...`: creates the service's, an agency's and a jurisdiction's keys.
struct KeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create key files (secret files are written with mode 0600 and never overwritten).",
        subcommands: [Service.self, RotateBox.self, Agency.self, Linkage.self, Show.self, KeysBackup.self, KeysRestore.self]
    )

    struct Service: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the service's X25519 box key pair (opens batches) and Ed25519 receipt-signing key pair.",
            discussion: """
                Writes service-box.public, service-box.secret, service-signing.public and \
                service-signing.secret into DIR. Give the two .public files to every agency; keep \
                the .secret files on the service host only.
                """
        )
        @Option(name: .long, help: "Directory to write the four key files into (created if missing).")
        var out: String

        func run() throws {
            let (box, signing) = try Self.create(in: out, report: true)
            print("service box key      \(KeyID.of(box.publicKey))  (agencies seal batches to service-box.public)")
            print("service signing key  \(KeyID.of(signing.publicKey))  (agencies verify receipts with service-signing.public)")
        }

        /// Creates the service's two key pairs and writes their four files into `directory`
        /// (refusing to overwrite any). Used by `plazo keys service` and `plazo demo`.
        static func create(in directory: String, report: Bool) throws -> (box: BoxKeyPair, signing: SigningKeyPair) {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let box = try BoxKeyPair.generate()
            let seed = try SecretBytes.random(count: 32)
            let signing = try SigningKeyPair.derive(seed: seed.withUnsafeBytes { Array($0) })
            let signingID = KeyID.of(signing.publicKey)
            let now = KeyFile.timestamp()
            let files: [(String, KeyFile)] = boxKeyFiles(box, created: now) + [
                ("service-signing.secret", KeyFile(kind: .serviceSigningSecret, keyID: signingID, created: now, key: seed)),
                ("service-signing.public", KeyFile(kind: .serviceSigningPublic, keyID: signingID, created: now, key: SecretBytes(copying: signing.publicKey.bytes))),
            ]
            try writeAll(files, into: directory, report: report)
            return (box, signing)
        }

        /// The two files of a service box key pair: `service-box.secret` and `service-box.public`.
        static func boxKeyFiles(_ box: BoxKeyPair, created: String) -> [(String, KeyFile)] {
            let id = KeyID.of(box.publicKey)
            return [
                ("service-box.secret", KeyFile(kind: .serviceBoxSecret, keyID: id, created: created, key: box.secretKey)),
                ("service-box.public", KeyFile(kind: .serviceBoxPublic, keyID: id, created: created, key: SecretBytes(copying: box.publicKey.bytes))),
            ]
        }
    }

    /// `plazo keys rotate-box --dir keys`: a new service box key; the old one is kept, retired.
    struct RotateBox: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-box",
            abstract: "Replace the service's box key, keeping the old secret as a retired key.",
            discussion: """
                Renames service-box.secret and service-box.public in DIR to service-box.<old key id>.secret \
                and .public, then writes a new service-box.secret and service-box.public. After a \
                restart, `plazo serve` accepts only batches sealed to the new key (a batch sealed to \
                the old one is refused as unknown_service_key) and still re-opens the stored batches \
                sealed to the old one, which it needs at every start: keep the retired secret for as \
                long as such batches are stored. Give the new service-box.public to every agency.
                """
        )
        @Option(name: .long, help: "The service's key directory (env PLAZO_KEYS; default ./keys).")
        var dir: String = ProcessInfo.processInfo.environment["PLAZO_KEYS"] ?? "keys"

        func run() throws {
            let current = (dir as NSString).appendingPathComponent("service-box.secret")
            let old = try KeyFile.read(current, expecting: .serviceBoxSecret)
            let fm = FileManager.default
            for suffix in ["secret", "public"] {
                let retired = (dir as NSString).appendingPathComponent("service-box.\(old.keyID).\(suffix)")
                if fm.fileExists(atPath: retired) { throw KeyFileError.alreadyExists(path: retired) }
            }
            for suffix in ["secret", "public"] {
                let from = (dir as NSString).appendingPathComponent("service-box.\(suffix)")
                if fm.fileExists(atPath: from) {
                    try fm.moveItem(atPath: from, toPath: (dir as NSString).appendingPathComponent("service-box.\(old.keyID).\(suffix)"))
                }
            }
            let box = try BoxKeyPair.generate()
            let id = KeyID.of(box.publicKey)
            try writeAll(Service.boxKeyFiles(box, created: KeyFile.timestamp()), into: dir)
            print("retired box key      \(old.keyID)  (kept as service-box.\(old.keyID).secret: stored batches sealed to it are re-opened at start-up)")
            print("new box key          \(id)  (give service-box.public to every agency; restart plazo serve)")
        }
    }

    struct Agency: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an agency's Ed25519 batch-signing key pair.",
            discussion: "Writes agency-signing.secret and agency-signing.public into DIR. Register the .public file with the service steward."
        )
        @Option(name: .long, help: "Directory to write the two key files into (created if missing).")
        var out: String

        func run() throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let seed = try SecretBytes.random(count: 32)
            let signing = try SigningKeyPair.derive(seed: seed.withUnsafeBytes { Array($0) })
            let id = KeyID.of(signing.publicKey)
            let now = KeyFile.timestamp()
            try writeAll([
                ("agency-signing.secret", KeyFile(kind: .agencySigningSecret, keyID: id, created: now, key: seed)),
                ("agency-signing.public", KeyFile(kind: .agencySigningPublic, keyID: id, created: now, key: SecretBytes(copying: signing.publicKey.bytes))),
            ], into: out)
            print("agency signing key \(id)")
        }
    }

    struct Linkage: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a jurisdiction's linkage key (32 random bytes).",
            discussion: """
                Every agency of one jurisdiction must use the same linkage key so that a case gets \
                the same pseudonym everywhere. Share it between agencies by a secure channel; the \
                service must never hold it.
                """
        )
        @Option(name: .long, help: "File to write the linkage key to.")
        var out: String

        func run() throws {
            let key = try SecretBytes.random(count: 32)
            let file = KeyFile(kind: .linkage, keyID: KeyFile.linkageKeyID(key), created: KeyFile.timestamp(), key: key)
            try file.write(to: out)
            print("linkage key \(file.keyID) written to \(out) (mode 0600)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a key file's kind and key id (never the key itself).")
        @Argument(help: "Key file.")
        var file: String

        func run() throws {
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw KeyFileError.unreadable(path: file, reason: "cannot read")
            }
            let key = try KeyFile.parse(text, path: file)
            print("\(key.kind.rawValue) \(key.keyID) created \(key.created)")
        }
    }
}

private func writeAll(_ files: [(String, KeyFile)], into directory: String, report: Bool = true) throws {
    // Refuse before writing anything, so a half-written set never replaces an existing one.
    for (name, _) in files {
        let path = (directory as NSString).appendingPathComponent(name)
        if FileManager.default.fileExists(atPath: path) { throw KeyFileError.alreadyExists(path: path) }
    }
    for (name, file) in files {
        let path = (directory as NSString).appendingPathComponent(name)
        try file.write(to: path)
        if report { print("wrote \(path)\(file.kind.isSecret ? " (mode 0600)" : "")") }
    }
}
