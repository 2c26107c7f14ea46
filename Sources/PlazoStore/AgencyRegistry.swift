import Foundation
import GRDB
import PlazoModel
import PlazoSodium
import PlazoWire

/// The state of a registered agency signing key.
public enum AgencyKeyStatus: String, Sendable, Codable {
    /// Batches signed with it are accepted. An agency has at most one active key.
    case active
    /// Replaced by a newer key (`plazo agencies rotate`): batches signed with it are refused from
    /// then on; batches accepted earlier stay.
    case retired
    /// Revoked (`plazo agencies revoke`), e.g. after a compromise: batches signed with it are refused.
    case revoked
}

/// A registered agency signing key.
public struct AgencyKeyRecord: Sendable, Hashable {
    public let keyID: KeyID
    public let publicKey: SigningPublicKey
    public let status: AgencyKeyStatus
    public let addedAt: Int64
    public let retiredAt: Int64?
}

/// A registered agency.
public struct AgencyRecord: Sendable, Hashable {
    /// The id agencies put in batch headers.
    public let id: AgencyID
    public let name: String
    public let type: AgencyType
    public let createdAt: Int64
    public let keys: [AgencyKeyRecord]

    /// The key batches must be signed with now, if any.
    public var activeKey: AgencyKeyRecord? { keys.first { $0.status == .active } }
}

/// Registry errors, each with a stable ``code``.
public enum RegistryError: Error, Equatable, Sendable, CustomStringConvertible {
    case duplicateName(String)
    case keyAlreadyRegistered(KeyID)
    case unknownAgency(String)
    case unknownKey(KeyID)
    case noActiveKey(String)
    case invalidName
    case database(String)

    public var code: String {
        switch self {
        case .duplicateName: "duplicate_agency_name"
        case .keyAlreadyRegistered: "key_already_registered"
        case .unknownAgency: "unknown_agency"
        case .unknownKey: "unknown_key"
        case .noActiveKey: "no_active_key"
        case .invalidName: "invalid_agency_name"
        case .database: "database_error"
        }
    }

    public var description: String {
        switch self {
        case let .duplicateName(n): "an agency named '\(n)' is already registered"
        case let .keyAlreadyRegistered(id): "key \(id) is already registered"
        case let .unknownAgency(a): "no agency '\(a)' is registered"
        case let .unknownKey(id): "no key \(id) is registered for this agency"
        case let .noActiveKey(a): "agency '\(a)' has no active key"
        case .invalidName: "an agency name must be 1 to 200 printable characters"
        case let .database(reason): "database error: \(reason)"
        }
    }
}

/// The registry of agencies and their signing keys, in the store.
public struct AgencyRegistry: Sendable {
    let database: AppDatabase

    public init(_ database: AppDatabase) { self.database = database }

    /// The registry's tables.
    public static let migrations: [StoreMigration] = [
        StoreMigration("v1-agency-registry") { db in
            try db.execute(sql: """
                CREATE TABLE agency (
                    id INTEGER PRIMARY KEY CHECK (id BETWEEN 1 AND 4294967295),
                    name TEXT NOT NULL UNIQUE,
                    type INTEGER NOT NULL CHECK (type BETWEEN 0 AND 255),
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE agency_key (
                    key_id BLOB PRIMARY KEY CHECK (length(key_id) = 8),
                    agency_id INTEGER NOT NULL REFERENCES agency(id),
                    public_key BLOB NOT NULL UNIQUE CHECK (length(public_key) = 32),
                    status TEXT NOT NULL CHECK (status IN ('active', 'retired', 'revoked')),
                    added_at INTEGER NOT NULL,
                    retired_at INTEGER
                );
                -- At most one active key per agency: trust SQLite more than ourselves.
                CREATE UNIQUE INDEX agency_key_one_active ON agency_key(agency_id) WHERE status = 'active';
                """)
        }
    ]

    /// Registers an agency with its first signing key, assigning the next free id.
    public func add(name: String, type: AgencyType, publicKey: SigningPublicKey, now: Int64) async throws(RegistryError) -> AgencyRecord {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        guard (1...200).contains(trimmed.count), trimmed.unicodeScalars.allSatisfy({ !CharacterSet.controlCharacters.contains($0) }) else {
            throw .invalidName
        }
        let keyID = KeyID.of(publicKey)
        return try await write { db in
            if try await db.row("SELECT 1 AS x FROM agency WHERE name = ?", trimmed) != nil {
                throw RegistryError.duplicateName(trimmed)
            }
            if try await db.row("SELECT 1 AS x FROM agency_key WHERE key_id = ?", keyID.bytes) != nil {
                throw RegistryError.keyAlreadyRegistered(keyID)
            }
            let id = try await db.insert("INSERT INTO agency (name, type, created_at) VALUES (?, ?, ?)", trimmed, Int64(type.rawValue), now)
            try await db.execute(
                "INSERT INTO agency_key (key_id, agency_id, public_key, status, added_at) VALUES (?, ?, ?, 'active', ?)",
                keyID.bytes, id, publicKey.bytes, now)
            return try await fetch(db, id: id)!
        }
    }

    /// Every agency, by id.
    public func list() async throws(RegistryError) -> [AgencyRecord] {
        try await read { db in
            var records: [AgencyRecord] = []
            for id in try await db.column("SELECT id FROM agency ORDER BY id") as [Int64] {
                if let record = try await fetch(db, id: id) { records.append(record) }
            }
            return records
        }
    }

    /// Finds an agency by id (`"3"`) or exact name.
    public func find(_ reference: String) async throws(RegistryError) -> AgencyRecord {
        try await read { db in try await resolve(db, reference) }
    }

    /// Makes `newKey` the agency's active key; the previous active key is retired and batches signed
    /// with it are refused from now on.
    public func rotate(_ reference: String, newKey: SigningPublicKey, now: Int64) async throws(RegistryError) -> AgencyRecord {
        let keyID = KeyID.of(newKey)
        return try await write { db in
            let agency = try await resolve(db, reference)
            if try await db.row("SELECT 1 AS x FROM agency_key WHERE key_id = ?", keyID.bytes) != nil {
                throw RegistryError.keyAlreadyRegistered(keyID)
            }
            try await db.execute(
                "UPDATE agency_key SET status = 'retired', retired_at = ? WHERE agency_id = ? AND status = 'active'",
                now, Int64(agency.id.rawValue))
            try await db.execute(
                "INSERT INTO agency_key (key_id, agency_id, public_key, status, added_at) VALUES (?, ?, ?, 'active', ?)",
                keyID.bytes, Int64(agency.id.rawValue), newKey.bytes, now)
            return try await fetch(db, id: Int64(agency.id.rawValue))!
        }
    }

    /// Revokes one key of an agency (its active key when `keyID` is nil). Batches signed with it
    /// are refused from now on; batches accepted earlier stay.
    public func revoke(_ reference: String, keyID: KeyID? = nil, now: Int64) async throws(RegistryError) -> AgencyRecord {
        try await write { db in
            let agency = try await resolve(db, reference)
            let target: KeyID
            if let keyID {
                guard agency.keys.contains(where: { $0.keyID == keyID }) else { throw RegistryError.unknownKey(keyID) }
                target = keyID
            } else {
                guard let active = agency.activeKey else { throw RegistryError.noActiveKey(agency.name) }
                target = active.keyID
            }
            try await db.execute(
                "UPDATE agency_key SET status = 'revoked', retired_at = COALESCE(retired_at, ?) WHERE key_id = ?", now, target.bytes)
            return try await fetch(db, id: Int64(agency.id.rawValue))!
        }
    }

    /// The public key that must have signed a batch of `agencyID` under `keyID` (step 5 of the
    /// verification order), or the batch error a receiver answers with.
    public func signingKey(agencyID: AgencyID, keyID: KeyID) async throws(BatchError) -> SigningPublicKey {
        let found: (status: String, key: [UInt8]?)?
        do {
            // One statement (on PostgreSQL one round trip, no transaction): every batch asks.
            found = try await database.readStatement { db -> (String, [UInt8]?)? in
                guard let row = try await db.row(
                    """
                    SELECT k.public_key, k.status FROM agency a
                    LEFT JOIN agency_key k ON k.agency_id = a.id AND k.key_id = ?
                    WHERE a.id = ?
                    """, keyID.bytes, Int64(agencyID.rawValue))
                else { return nil }
                let status: String? = try row["status"]
                return (status ?? "missing", try row["public_key"])
            }
        } catch {
            // A registry that cannot be read refuses the batch rather than accepting it blindly.
            throw .unknownAgency(agencyID)
        }
        guard let found else { throw .unknownAgency(agencyID) }
        switch found.status {
        case "active":
            guard let bytes = found.key, let key = try? SigningPublicKey(bytes: bytes) else { throw .unknownSigningKey(keyID) }
            return key
        case "retired", "revoked": throw .revokedSigningKey(keyID)
        default: throw .unknownSigningKey(keyID)
        }
    }

    /// The public key of any registered key of an agency, whatever its status (to authenticate an
    /// agency's request for its own receipts).
    public func anyKey(agencyID: AgencyID, keyID: KeyID) async -> (key: SigningPublicKey, status: AgencyKeyStatus)? {
        try? await database.read { db -> (SigningPublicKey, AgencyKeyStatus)? in
            guard let row = try await db.row(
                "SELECT public_key, status FROM agency_key WHERE key_id = ? AND agency_id = ?", keyID.bytes, Int64(agencyID.rawValue))
            else { return nil }
            guard let key = try? SigningPublicKey(bytes: try row["public_key"]), let s = AgencyKeyStatus(rawValue: try row["status"]) else {
                return nil
            }
            return (key, s)
        }
    }

    // MARK: - Helpers

    private func resolve(_ db: any SQLConnection, _ reference: String) async throws -> AgencyRecord {
        if let id = Int64(reference), let found = try await fetch(db, id: id) { return found }
        if let id: Int64 = try await db.scalar("SELECT id FROM agency WHERE name = ?", reference), let found = try await fetch(db, id: id) {
            return found
        }
        throw RegistryError.unknownAgency(reference)
    }

    private func fetch(_ db: any SQLConnection, id: Int64) async throws -> AgencyRecord? {
        guard let row = try await db.row("SELECT id, name, type, created_at FROM agency WHERE id = ?", id) else {
            return nil
        }
        let keys = try await db.rows(
            "SELECT key_id, public_key, status, added_at, retired_at FROM agency_key WHERE agency_id = ? ORDER BY added_at, key_id", id
        ).map { r -> AgencyKeyRecord in
            AgencyKeyRecord(
                keyID: KeyID(bytes: try r["key_id"])!, publicKey: try SigningPublicKey(bytes: try r["public_key"]),
                status: AgencyKeyStatus(rawValue: try r["status"])!, addedAt: try r["added_at"], retiredAt: try r["retired_at"]
            )
        }
        let type: Int = try row["type"]
        return AgencyRecord(
            id: AgencyID(UInt32(try row["id"] as Int64)), name: try row["name"], type: AgencyType(rawValue: UInt8(type)) ?? .unknown,
            createdAt: try row["created_at"], keys: keys
        )
    }

    private func write<T>(_ body: (any SQLConnection) async throws -> T) async throws(RegistryError) -> T {
        do { return try await database.write(body) } catch let error as RegistryError { throw error } catch {
            throw .database(String(describing: error))
        }
    }

    private func read<T>(_ body: (any SQLConnection) async throws -> T) async throws(RegistryError) -> T {
        do { return try await database.read(body) } catch let error as RegistryError { throw error } catch {
            throw .database(String(describing: error))
        }
    }
}
