import Foundation
import PlazoModel
import PlazoSodium

/// An 8-byte key id: the first 8 bytes of BLAKE2b-256 of the public key (for the linkage key,
/// of a keyed hash; see ``KeyFile/linkageKeyID(_:)``). Shown as 16 lowercase hex digits.
public struct KeyID: Hashable, Sendable, CustomStringConvertible, Codable {
    /// Length in bytes.
    public static let byteCount = 8
    /// The 8 bytes.
    public let bytes: [UInt8]

    /// Wraps 8 bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses 16 hex digits.
    public init?(hex: String) {
        guard let b = Hex.decode(hex), b.count == Self.byteCount else { return nil }
        self.bytes = b
    }

    /// The id of a public key: BLAKE2b-256(public key)[0..<8] (`specs/batch-format.md` §2).
    public static func of(publicKey: [UInt8]) -> KeyID {
        // BLAKE2b accepts any message; the only failure would be an invalid output length.
        let digest = try! GenericHash.hash(publicKey, outputLength: 32)
        return KeyID(bytes: Array(digest.prefix(8)))!
    }

    /// The id of a box public key.
    public static func of(_ key: BoxPublicKey) -> KeyID { of(publicKey: key.bytes) }
    /// The id of a signing public key.
    public static func of(_ key: SigningPublicKey) -> KeyID { of(publicKey: key.bytes) }

    /// Lowercase hex.
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let id = KeyID(hex: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a key id"))
        }
        self = id
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(hex)
    }
}

/// The kinds of key file Plazo reads and writes (`specs/batch-format.md` §2).
public enum KeyKind: String, CaseIterable, Sendable {
    /// The service's X25519 public key: agencies seal batch payloads to it.
    case serviceBoxPublic = "service-box-public"
    /// The service's X25519 secret key: opens batch payloads. Never leaves the service.
    case serviceBoxSecret = "service-box-secret"
    /// The service's Ed25519 public key: agencies verify receipts with it.
    case serviceSigningPublic = "service-signing-public"
    /// The service's Ed25519 seed: signs receipts.
    case serviceSigningSecret = "service-signing-secret"
    /// An agency's Ed25519 public key: registered with the service.
    case agencySigningPublic = "agency-signing-public"
    /// An agency's Ed25519 seed: signs batches. Never leaves the agency.
    case agencySigningSecret = "agency-signing-secret"
    /// The jurisdiction's linkage key: shared by its agencies, never held by the service.
    case linkage = "linkage-key"

    /// Whether files of this kind hold secret material (written with mode 0600).
    public var isSecret: Bool {
        switch self {
        case .serviceBoxPublic, .serviceSigningPublic, .agencySigningPublic: false
        case .serviceBoxSecret, .serviceSigningSecret, .agencySigningSecret, .linkage: true
        }
    }

    /// The length of the key material in bytes.
    public var byteCount: Int { 32 }
}

/// Errors reading key files.
public enum KeyFileError: Error, Equatable, Sendable, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case notAKeyFile(path: String)
    case wrongKind(path: String, expected: KeyKind, found: String)
    case malformed(path: String, reason: String)
    case keyIDMismatch(path: String)
    case alreadyExists(path: String)
    case writeFailed(path: String, reason: String)
    /// A secret key file that group or others may read (mode shown in octal).
    case permissionsTooOpen(path: String, mode: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "cannot read key file \(path): \(reason)"
        case let .notAKeyFile(path): "\(path) is not a Plazo key file (it must start with 'plazo-key v1')"
        case let .wrongKind(path, expected, found):
            "\(path) is a '\(found)' key file, but a '\(expected.rawValue)' key file is needed here"
        case let .malformed(path, reason): "key file \(path) is malformed: \(reason)"
        case let .keyIDMismatch(path): "key file \(path) is corrupt: its key-id does not match its key"
        case let .alreadyExists(path): "\(path) already exists; refusing to overwrite a key"
        case let .writeFailed(path, reason): "cannot write key file \(path): \(reason)"
        case let .permissionsTooOpen(path, mode):
            "permissions \(String(format: "%04o", mode)) for secret key file '\(path)' are too open: a secret key must not be "
                + "accessible by group or others. It is not used. Run: chmod 600 '\(path)'"
        }
    }
}

/// A key file: a small text file that names its kind, so that using the wrong file gives a clear
/// error instead of a failed decryption.
///
/// ```
/// plazo-key v1
/// kind: agency-signing-public
/// key-id: 5b2c0f9a61d3e7a4
/// created: 2026-11-29T13:40:00Z
/// key: 9f1c...64 hex digits...
/// ```
/// For secret kinds, `key-id` is the id of the matching public key (so an operator can tell which
/// pair a secret belongs to); for the linkage key it is ``linkageKeyID(_:)``.
public struct KeyFile: Sendable {
    /// The first line of every key file.
    public static let magicLine = "plazo-key v1"

    public let kind: KeyKind
    public let keyID: KeyID
    public let created: String
    /// The 32 bytes of key material (an Ed25519 seed for signing secret keys).
    public let key: SecretBytes

    public init(kind: KeyKind, keyID: KeyID, created: String, key: SecretBytes) {
        self.kind = kind
        self.keyID = keyID
        self.created = created
        self.key = key
    }

    /// The file's text.
    public func render() -> String {
        let hex = key.withUnsafeBytes { Hex.encode(Array($0)) }
        return "\(Self.magicLine)\nkind: \(kind.rawValue)\nkey-id: \(keyID.hex)\ncreated: \(created)\nkey: \(hex)\n"
    }

    /// Parses key-file text; `path` is used in error messages only.
    public static func parse(_ text: String, path: String) throws(KeyFileError) -> KeyFile {
        let lines = text.split(whereSeparator: \.isNewline).map(String.init)
        guard lines.first == magicLine else { throw .notAKeyFile(path: path) }
        var fields: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw .malformed(path: path, reason: "line without ':'") }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            fields[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        guard let kindText = fields["kind"] else { throw .malformed(path: path, reason: "no kind") }
        guard let kind = KeyKind(rawValue: kindText) else { throw .malformed(path: path, reason: "unknown kind '\(kindText.prefix(40))'") }
        guard let idText = fields["key-id"], let keyID = KeyID(hex: idText) else { throw .malformed(path: path, reason: "no valid key-id") }
        guard let keyHex = fields["key"], let keyBytes = Hex.decode(keyHex), keyBytes.count == kind.byteCount else {
            throw .malformed(path: path, reason: "key must be \(kind.byteCount * 2) hex digits")
        }
        let file = KeyFile(kind: kind, keyID: keyID, created: fields["created"] ?? "", key: SecretBytes(copying: keyBytes))
        guard (try? file.computedKeyID()) == keyID else { throw .keyIDMismatch(path: path) }
        return file
    }

    /// Reads a key file and checks it is of the `expected` kind. A secret key file that group or
    /// others can read or write is refused, as ssh refuses such a private key: whoever else could
    /// read it could open every batch or sign in the agency's name.
    public static func read(_ path: String, expecting expected: KeyKind) throws(KeyFileError) -> KeyFile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        let file = try parse(text, path: path)
        guard file.kind == expected else { throw .wrongKind(path: path, expected: expected, found: file.kind.rawValue) }
        if file.kind.isSecret {
            var info = stat()
            if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
                throw .permissionsTooOpen(path: path, mode: Int(info.st_mode & 0o7777))
            }
        }
        return file
    }

    /// Writes the file, with mode 0600 for secret kinds and 0644 for public ones. Refuses to
    /// overwrite an existing file.
    public func write(to path: String) throws(KeyFileError) {
        if FileManager.default.fileExists(atPath: path) { throw .alreadyExists(path: path) }
        let mode: Int32 = kind.isSecret ? 0o600 : 0o644
        let data = Array(render().utf8)
        // Create with the final mode from the start so that a secret is never readable by others.
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode_t(mode))
        if fd < 0 { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
        defer { close(fd) }
        let written = data.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
        if written != data.count { throw .writeFailed(path: path, reason: "short write") }
        _ = fchmod(fd, mode_t(mode))
        _ = fsync(fd)
    }

    /// The key id implied by the key material.
    func computedKeyID() throws(SodiumError) -> KeyID {
        switch kind {
        case .serviceBoxPublic, .serviceSigningPublic, .agencySigningPublic:
            return KeyID.of(publicKey: key.withUnsafeBytes { Array($0) })
        case .serviceBoxSecret:
            return KeyID.of(try BoxKeyPair.publicKey(for: key))
        case .serviceSigningSecret, .agencySigningSecret:
            return KeyID.of(try SigningKeyPair.derive(seed: key.withUnsafeBytes { Array($0) }).publicKey)
        case .linkage:
            return KeyFile.linkageKeyID(key)
        }
    }

    /// The id of a linkage key: the first 8 bytes of BLAKE2b-256 keyed with the linkage key over
    /// the ASCII string `plazo-linkage-key-id`. Agencies compare it to check they hold the same key;
    /// it reveals nothing about the key.
    public static func linkageKeyID(_ key: SecretBytes) -> KeyID {
        let digest = try! GenericHash.keyedHash(Array("plazo-linkage-key-id".utf8), key: key, outputLength: 32)
        return KeyID(bytes: Array(digest.prefix(8)))!
    }

    /// The current time as written in `created:` lines.
    public static func timestamp(_ date: Date = Date()) -> String {
        ISO8601DateFormatter().string(from: date)
    }

    // MARK: Typed accessors

    /// The box public key held by a `service-box-public` file.
    public func boxPublicKey() throws(SodiumError) -> BoxPublicKey {
        try BoxPublicKey(bytes: key.withUnsafeBytes { Array($0) })
    }

    /// The box key pair held by a `service-box-secret` file.
    public func boxKeyPair() throws(SodiumError) -> BoxKeyPair {
        try BoxKeyPair(publicKey: BoxKeyPair.publicKey(for: key), secretKey: key)
    }

    /// The signing public key held by a `*-signing-public` file.
    public func signingPublicKey() throws(SodiumError) -> SigningPublicKey {
        try SigningPublicKey(bytes: key.withUnsafeBytes { Array($0) })
    }

    /// The signing key pair derived from the seed in a `*-signing-secret` file.
    public func signingKeyPair() throws(SodiumError) -> SigningKeyPair {
        var seed = key.withUnsafeBytes { Array($0) }
        defer { for i in seed.indices { seed[i] = 0 } }
        return try SigningKeyPair.derive(seed: seed)
    }
}
