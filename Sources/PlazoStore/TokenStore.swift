import Foundation
import GRDB
import PlazoSodium

/// What a bearer token may do on the HTTP API (`docs/api-guide.md`). Agencies have no token: they
/// authenticate with their signing keys.
public enum TokenRole: String, Sendable, Hashable, CaseIterable, Codable, CustomStringConvertible {
    /// Oversight bodies: read the dashboards (noisy, published figures only).
    case oversight
    /// Researchers: list and fetch published releases, download their tables and Data Packages.
    case researcher
    /// Data stewards: create releases, read the privacy ledger, manage agencies and tokens, read
    /// the operational metrics.
    case steward

    public var description: String { rawValue }
}

/// A registered API token, without its secret (the store never has it).
public struct TokenRecord: Sendable, Hashable {
    /// Stable id (used to revoke).
    public let id: Int64
    /// Who holds it, e.g. `"CNDH observatorio"`. Unique among tokens that are not revoked.
    public let name: String
    /// What it may do.
    public let role: TokenRole
    /// Unix seconds.
    public let createdAt: Int64
    /// Who created it (`"cli"` or the name of the steward token that did).
    public let createdBy: String
    /// Unix seconds of revocation, nil while usable.
    public let revokedAt: Int64?

    /// True while the token authenticates.
    public var isActive: Bool { revokedAt == nil }
}

/// A newly created token: its record and the secret, which exists only in this value. Show it to
/// its holder once; it cannot be recovered afterwards.
public struct IssuedToken: Sendable {
    /// The stored record.
    public let record: TokenRecord
    /// The bearer token, `plz_` followed by 43 base64url characters (32 random bytes).
    public let token: String
}

/// Token failures, each with a stable ``code``. Messages never contain a token.
public enum TokenError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The name is empty, too long or has control characters.
    case invalidName
    /// An active token already has this name.
    case duplicateName(String)
    /// No token with this id or active name.
    case unknownToken(String)
    /// The token is already revoked.
    case alreadyRevoked(Int64)
    /// A presented bearer token does not have the token format.
    case malformed
    /// A presented bearer token matches no registered token.
    case unknown
    /// A presented bearer token was revoked.
    case revoked
    /// The CSPRNG or hash failed.
    case crypto(String)
    /// A database failure.
    case database(String)

    /// The machine-readable reason.
    public var code: String {
        switch self {
        case .invalidName: "invalid_token_name"
        case .duplicateName: "duplicate_token_name"
        case .unknownToken: "unknown_token"
        case .alreadyRevoked: "token_already_revoked"
        case .malformed, .unknown: "invalid_token"
        case .revoked: "revoked_token"
        case .crypto: "crypto_error"
        case .database: "database_error"
        }
    }

    public var description: String {
        switch self {
        case .invalidName: "a token name must be 1 to 200 printable characters"
        case let .duplicateName(n): "an active token named '\(n)' already exists"
        case let .unknownToken(r): "no token '\(r)' (give its id or the name of an active token)"
        case let .alreadyRevoked(id): "token \(id) is already revoked"
        case .malformed: "the bearer token is not a Plazo token"
        case .unknown: "the bearer token is not valid"
        case .revoked: "the bearer token has been revoked"
        case let .crypto(why): "token cryptography failed: \(why)"
        case let .database(why): "database error: \(why)"
        }
    }
}

/// The API tokens of the service. The store keeps only BLAKE2b-256 of each token (tokens carry
/// 256 random bits, so a fast hash is enough: a stolen database yields no usable token).
///
/// Lookup: SQLite finds candidate rows by the first 8 bytes of the hash (an index, which may
/// leak timing about a hash prefix — useless without a preimage), and the full 32-byte hash is
/// then compared in constant time (`sodium_memcmp`).
public struct TokenStore: Sendable {
    /// The prefix of every token (lets secret scanners recognise a leaked one).
    public static let prefix = "plz_"
    /// Random bytes per token.
    public static let secretByteCount = 32
    /// Length of a token string: the prefix and unpadded base64url of 32 bytes.
    public static let tokenLength = prefix.count + 43

    /// The store the tokens are kept in.
    public let database: AppDatabase
    let clock: @Sendable () -> Int64

    /// Tokens in `database`; `clock` gives Unix seconds (injectable for tests).
    public init(_ database: AppDatabase, clock: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970) }) {
        self.database = database
        self.clock = clock
    }

    /// The token table.
    public static let migrations: [StoreMigration] = [
        StoreMigration("v1-api-tokens") { db in
            try db.execute(sql: """
                CREATE TABLE api_token (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL CHECK (name <> ''),
                    role TEXT NOT NULL CHECK (role IN ('oversight', 'researcher', 'steward')),
                    hash_prefix BLOB NOT NULL CHECK (length(hash_prefix) = 8),
                    token_hash BLOB NOT NULL UNIQUE CHECK (length(token_hash) = 32),
                    created_at INTEGER NOT NULL,
                    created_by TEXT NOT NULL CHECK (created_by <> ''),
                    revoked_at INTEGER
                );
                CREATE INDEX api_token_by_prefix ON api_token(hash_prefix);
                CREATE UNIQUE INDEX api_token_active_name ON api_token(name) WHERE revoked_at IS NULL;
                CREATE TRIGGER api_token_no_delete BEFORE DELETE ON api_token
                BEGIN SELECT RAISE(ABORT, 'tokens are revoked, never deleted'); END;
                """)
        }
    ]

    /// Creates a token from the libsodium CSPRNG and stores its hash. The returned
    /// ``IssuedToken/token`` is the only copy.
    public func create(name: String, role: TokenRole, createdBy: String = "cli") async throws(TokenError) -> IssuedToken {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(trimmed.count), trimmed.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw .invalidName
        }
        let token: String
        let hash: [UInt8]
        do {
            var secret = try SecureRandom.bytes(Self.secretByteCount)
            defer { for i in secret.indices { secret[i] = 0 } }
            token = Self.prefix + Self.base64url(secret)
            hash = try Self.hash(token)
        } catch { throw .crypto(error.description) }
        let now = clock()
        let record: TokenRecord = try await write { db in
            if try await db.row("SELECT 1 AS x FROM api_token WHERE name = ? AND revoked_at IS NULL", trimmed) != nil {
                throw TokenError.duplicateName(trimmed)
            }
            let id = try await db.insert(
                "INSERT INTO api_token (name, role, hash_prefix, token_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)",
                trimmed, role.rawValue, Array(hash[0..<8]), hash, now, createdBy.isEmpty ? "cli" : createdBy)
            return try await Self.fetch(db, id: id)!
        }
        return IssuedToken(record: record, token: token)
    }

    /// Every token (without secrets), by id; only active ones unless `includeRevoked`.
    public func list(includeRevoked: Bool = false) async throws(TokenError) -> [TokenRecord] {
        try await read { db in
            try await db.rows("SELECT * FROM api_token \(includeRevoked ? "" : "WHERE revoked_at IS NULL") ORDER BY id")
                .map { row in try Self.record(row) }
        }
    }

    /// Revokes a token given by id (`"3"`) or the name of an active token. From then on it is
    /// refused (401 `revoked_token`).
    public func revoke(_ reference: String) async throws(TokenError) -> TokenRecord {
        let now = clock()
        return try await write { db in
            let row: SQLRow?
            if let id = Int64(reference), let byID = try await db.row("SELECT * FROM api_token WHERE id = ?", id) {
                row = byID
            } else {
                row = try await db.row("SELECT * FROM api_token WHERE name = ? AND revoked_at IS NULL", reference)
            }
            guard let row else { throw TokenError.unknownToken(reference) }
            let record = try Self.record(row)
            guard record.isActive else { throw TokenError.alreadyRevoked(record.id) }
            try await db.execute("UPDATE api_token SET revoked_at = ? WHERE id = ?", now, record.id)
            return try await Self.fetch(db, id: record.id)!
        }
    }

    /// The record of a presented bearer token: throws ``TokenError/malformed``,
    /// ``TokenError/unknown`` or ``TokenError/revoked`` when it must be refused.
    public func authenticate(_ token: String) async throws(TokenError) -> TokenRecord {
        guard Self.isWellFormed(token) else { throw .malformed }
        let hash: [UInt8]
        do { hash = try Self.hash(token) } catch { throw .crypto(error.description) }
        let candidates: [SQLRow]
        do {
            candidates = try await database.readStatement { db in try await db.rows("SELECT * FROM api_token WHERE hash_prefix = ?", Array(hash[0..<8])) }
        } catch { throw .database(String(describing: error)) }
        for row in candidates {
            guard let stored = try? row["token_hash"] as [UInt8] else { throw .database("unreadable token row") }
            if ConstantTime.equals(stored, hash) {
                let record: TokenRecord
                do { record = try Self.record(row) } catch { throw .database("unreadable token row") }
                guard record.isActive else { throw .revoked }
                return record
            }
        }
        throw .unknown
    }

    /// True when `token` has the shape of a Plazo token (prefix and 43 base64url characters).
    public static func isWellFormed(_ token: String) -> Bool {
        let u = Array(token.utf8)
        guard u.count == tokenLength, token.hasPrefix(prefix) else { return false }
        return u[prefix.utf8.count...].allSatisfy { c in
            (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
        }
    }

    // MARK: - Helpers

    /// BLAKE2b-256 of a domain-separation string and the token.
    static func hash(_ token: String) throws(SodiumError) -> [UInt8] {
        try GenericHash.hash(Array("plazo-api-token-v1\n".utf8) + Array(token.utf8), outputLength: 32)
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func record(_ row: SQLRow) throws -> TokenRecord {
        // Fail closed: a role this build does not know grants nothing.
        guard let role = TokenRole(rawValue: try row["role"]) else { throw TokenError.database("unknown role in api_token") }
        return TokenRecord(
            id: try row["id"], name: try row["name"], role: role,
            createdAt: try row["created_at"], createdBy: try row["created_by"], revokedAt: try row["revoked_at"]
        )
    }

    static func fetch(_ db: any SQLConnection, id: Int64) async throws -> TokenRecord? {
        try await db.row("SELECT * FROM api_token WHERE id = ?", id).map { row in try record(row) }
    }

    private func write<T>(_ body: (any SQLConnection) async throws -> T) async throws(TokenError) -> T {
        do { return try await database.write(body) } catch let error as TokenError { throw error } catch {
            throw .database(String(describing: error))
        }
    }

    private func read<T>(_ body: (any SQLConnection) async throws -> T) async throws(TokenError) -> T {
        do { return try await database.read(body) } catch let error as TokenError { throw error } catch {
            throw .database(String(describing: error))
        }
    }
}
