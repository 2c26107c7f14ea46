import ArgumentParser
import Foundation
import PlazoModel
import PlazoStore
import PlazoWire

/// `plazo agencies ...`: the steward's agency registry.
struct AgenciesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agencies",
        abstract: "Register agencies and manage their signing keys.",
        subcommands: [Add.self, List.self, Rotate.self, Revoke.self]
    )

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970) }

    static func describe(_ a: AgencyRecord) -> String {
        var out = "agency \(a.id.rawValue)  \(a.name)  (\(a.type.label))"
        for k in a.keys {
            out += "\n  key \(k.keyID)  \(k.status.rawValue)"
        }
        return out
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register an agency with its signing public key; prints its agency id.")
        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: "The agency's name (unique).")
        var name: String
        @Option(name: .long, help: "Agency type (label or code; see `plazo vocabulary agency_type`).")
        var type: String
        @Option(name: .long, help: "The agency's agency-signing.public file.")
        var publicKey: String

        func run() async throws {
            let agencyType: AgencyType
            do { agencyType = try AgencyType.parse(type) } catch { throw ValidationError(error.description) }
            let key = try KeyFile.read(publicKey, expecting: .agencySigningPublic).signingPublicKey()
            let record = try await AgencyRegistry(store.open()).add(name: name, type: agencyType, publicKey: key, now: AgenciesCommand.now())
            print(AgenciesCommand.describe(record))
            print("give the agency its id: --agency-id \(record.id.rawValue)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List registered agencies and their keys.")
        @OptionGroup var store: StoreOptions
        func run() async throws {
            let agencies = try await AgencyRegistry(store.open()).list()
            if agencies.isEmpty { print("no agencies registered") }
            for a in agencies { print(AgenciesCommand.describe(a)) }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a new key the agency's active key; batches signed by the old key are refused from now on."
        )
        @OptionGroup var store: StoreOptions
        @Argument(help: "Agency id or name.")
        var agency: String
        @Option(name: .long, help: "The new agency-signing.public file.")
        var publicKey: String
        func run() async throws {
            let key = try KeyFile.read(publicKey, expecting: .agencySigningPublic).signingPublicKey()
            print(AgenciesCommand.describe(try await AgencyRegistry(store.open()).rotate(agency, newKey: key, now: AgenciesCommand.now())))
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an agency key (its active key by default); batches signed by it are refused from now on."
        )
        @OptionGroup var store: StoreOptions
        @Argument(help: "Agency id or name.")
        var agency: String
        @Option(name: .long, help: "Key id to revoke (default: the active key).")
        var key: String?
        func run() async throws {
            var keyID: KeyID?
            if let key {
                guard let id = KeyID(hex: key) else { throw ValidationError("--key must be 16 hex digits") }
                keyID = id
            }
            print(AgenciesCommand.describe(try await AgencyRegistry(store.open()).revoke(agency, keyID: keyID, now: AgenciesCommand.now())))
        }
    }
}
