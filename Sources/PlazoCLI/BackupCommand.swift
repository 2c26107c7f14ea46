import ArgumentParser
import Foundation
import PlazoIngest
import PlazoSodium
import PlazoStore
import PlazoWire

/// `plazo backup --out FILE`: a consistent online copy of the store, verified.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the store consistently while the service runs, then verify the copy.",
        discussion: """
            Uses SQLite's online backup API: the copy is the store at one moment, committed \
            transactions only, even while the service ingests (a plain file copy of a WAL-mode \
            database can miss commits). The copy is one self-contained file with mode 0600. Then \
            it is verified: SQLite's integrity check, and every stored batch re-opened with the \
            service's box keys (retired ones included), its signature checked and its receipt \
            compared with a replay, as `plazo rebuild` does. Keep the key directory too: `plazo \
            keys backup`. Exit status 0 when the copy verifies, 1 otherwise.
            """
    )

    @OptionGroup var store: StoreOptions
    @OptionGroup var serviceKeys: ServiceKeyOptions

    @Option(name: .long, help: "The backup file to write (must not exist).")
    var out: String

    func run() async throws {
        let started = Date()
        if store.isShared {
            throw CLIRefusal("a PostgreSQL store is backed up with PostgreSQL's own tools: pg_dump for a consistent copy, or base backups with WAL archiving for point-in-time recovery (docs/operations.md). Verify a restored copy with `plazo rebuild --database …`.")
        }
        let database = try await store.open()
        try database.backup(to: out)
        let copy = try AppDatabase.open(path: out)
        let integrity = try await copy.integrityCheck()
        guard integrity == ["ok"] else {
            print("NOT VALID: integrity check of \(out): \(integrity.prefix(5).joined(separator: "; "))")
            throw ExitCode.failure
        }
        let (_, report) = try await Rebuild.recompute(
            log: BatchLog(copy), registry: AgencyRegistry(copy), serviceKeys: serviceKeys.boxKeyPairs(),
            receiptKey: serviceKeys.receiptKey().publicKey)
        let size = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        print("backup            \(out) (\(size / 1024) KiB)")
        print("integrity         ok")
        print("batches verified  \(report.batches) (\(report.acceptedRecords) records, \(report.cases) cases)")
        print(String(format: "took              %.2f s", Date().timeIntervalSince(started)))
        guard report.matches else {
            for mismatch in report.mismatches.prefix(20) { print("  \(mismatch)") }
            print("NOT VALID: \(report.mismatches.count) receipt(s) disagree with a replay of the copy")
            throw ExitCode.failure
        }
        print("OK: the copy is consistent, every batch authenticates and every receipt agrees")
    }
}

/// Where a passphrase comes from: a file (first line) or the environment, never the command line.
struct PassphraseOption: ParsableArguments {
    @Option(name: .long, help: "A file whose first line is the passphrase (default: env PLAZO_KEYS_PASSPHRASE).")
    var passphraseFile: String?

    func passphrase() throws -> SecretBytes {
        var text: String
        if let passphraseFile {
            guard let data = FileManager.default.contents(atPath: passphraseFile) else { throw ValidationError("cannot read \(passphraseFile)") }
            text = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        } else if let env = ProcessInfo.processInfo.environment["PLAZO_KEYS_PASSPHRASE"] {
            text = env
        } else {
            throw ValidationError("give the passphrase with --passphrase-file FILE or the environment variable PLAZO_KEYS_PASSPHRASE")
        }
        defer { text = "" }
        guard text.count >= 12 else { throw ValidationError("the passphrase must have at least 12 characters") }
        return SecretBytes(copying: Array(text.utf8))
    }
}

/// `plazo keys backup`: every key file of a directory (retired box keys included) in one archive
/// encrypted under a passphrase.
struct KeysBackup: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write every key file of a directory (retired box keys included) into one passphrase-encrypted archive.",
        discussion: """
            The archive is encrypted with a key derived from the passphrase by Argon2id \
            (libsodium crypto_pwhash, moderate cost) and sealed with XSalsa20-Poly1305 \
            (crypto_secretbox). Keep it apart from the database backups, and the passphrase apart \
            from both. Losing a retired box key makes the batches sealed to it unreadable: the \
            service refuses to start without it.
            """
    )

    @Option(name: .long, help: "The key directory (default ./keys).")
    var dir: String = "keys"

    @Option(name: .long, help: "The archive to write (must not exist).")
    var out: String

    @OptionGroup var passphrase: PassphraseOption

    func run() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir)
            .filter { $0.hasSuffix(".secret") || $0.hasSuffix(".public") || $0.hasSuffix(".key") }.sorted()
        guard !names.isEmpty else { throw ValidationError("no key files in \(dir)") }
        var archive: [UInt8] = Array("plazo-keys-archive-v1\n".utf8)
        for name in names {
            let path = (dir as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
            // Each entry: "<name>\n<byte count>\n<bytes>".
            archive += Array("\(name)\n\(data.count)\n".utf8) + Array(data)
        }
        let secret = SecretBytes(copying: archive)
        archive.withUnsafeMutableBytes { $0.initializeMemory(as: UInt8.self, repeating: 0) }
        let sealed = try PassphraseBox.seal(secret, passphrase: passphrase.passphrase())
        if FileManager.default.fileExists(atPath: out) { throw ValidationError("\(out) exists already") }
        let fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot write \(out): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = sealed.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == sealed.count, fsync(fd) == 0 else { throw ValidationError("cannot write \(out)") }
        print("\(names.count) key file(s) in \(out): \(names.joined(separator: ", "))")
    }
}

/// `plazo keys restore`: the key files of an archive, into an empty or new directory.
struct KeysRestore: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore the key files of a passphrase-encrypted archive (never over existing files).",
        discussion: "Secret key files are written with mode 0600, public ones 0644."
    )

    @Argument(help: "The archive written by `plazo keys backup`.")
    var archive: String

    @Option(name: .long, help: "The directory to restore into (created if missing).")
    var dir: String = "keys"

    @OptionGroup var passphrase: PassphraseOption

    func run() throws {
        guard let sealed = FileManager.default.contents(atPath: archive) else { throw ValidationError("cannot read \(archive)") }
        let plain: SecretBytes
        do { plain = try PassphraseBox.open(Array(sealed), passphrase: passphrase.passphrase()) } catch {
            throw ValidationError("the archive does not open: wrong passphrase, or the file was altered")
        }
        let bytes = plain.withUnsafeBytes { Array($0) }
        let header = Array("plazo-keys-archive-v1\n".utf8)
        guard bytes.starts(with: header) else { throw ValidationError("not a Plazo key archive") }
        var at = header.count
        var entries: [(name: String, data: [UInt8])] = []
        func line() -> String? {
            guard let end = bytes[at...].firstIndex(of: 0x0A) else { return nil }
            defer { at = end + 1 }
            return String(decoding: bytes[at..<end], as: UTF8.self)
        }
        while at < bytes.count {
            guard let name = line(), let countText = line(), let count = Int(countText), count >= 0, at + count <= bytes.count,
                !name.contains("/"), !name.hasPrefix(".")
            else { throw ValidationError("the archive is malformed") }
            entries.append((name, Array(bytes[at..<(at + count)])))
            at += count
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for entry in entries {
            let path = (dir as NSString).appendingPathComponent(entry.name)
            if FileManager.default.fileExists(atPath: path) { throw ValidationError("\(path) exists already: restore into an empty directory") }
        }
        for entry in entries {
            let path = (dir as NSString).appendingPathComponent(entry.name)
            let mode: mode_t = entry.name.hasSuffix(".public") ? 0o644 : 0o600
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            guard fd >= 0 else { throw ValidationError("cannot write \(path)") }
            let written = entry.data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            _ = fchmod(fd, mode)
            _ = fsync(fd)
            close(fd)
            guard written == entry.data.count else { throw ValidationError("cannot write \(path)") }
        }
        print("restored \(entries.count) key file(s) into \(dir): \(entries.map(\.name).joined(separator: ", "))")
    }
}
