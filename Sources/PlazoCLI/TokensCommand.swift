import ArgumentParser
import Foundation
import PlazoStore

/// `plazo tokens ...`: bearer tokens for oversight bodies, researchers and stewards.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Create, list and revoke the API's bearer tokens (roles: oversight, researcher, steward).",
        discussion: """
            A token is printed once, when it is created; the service stores only its hash. Give it to \
            its holder over a channel you trust. Agencies need no token: they sign with their keys.
            """,
        subcommands: [Create.self, List.self, Revoke.self]
    )

    static func describe(_ t: TokenRecord) -> String {
        let created = Date(timeIntervalSince1970: TimeInterval(t.createdAt)).formatted(.iso8601)
        var line = "token \(t.id)\t\(t.role)\t\(t.name)\tcreated \(created) by \(t.createdBy)"
        if let revoked = t.revokedAt {
            line += "\trevoked \(Date(timeIntervalSince1970: TimeInterval(revoked)).formatted(.iso8601))"
        }
        return line
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a token and print it (once).")
        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: "oversight, researcher or steward.")
        var role: String
        @Option(name: .long, help: "Who holds it (unique among active tokens).")
        var name: String

        func validate() throws {
            if TokenRole(rawValue: role) == nil { throw ValidationError("--role must be one of oversight, researcher, steward") }
        }

        func run() async throws {
            let issued = try await TokenStore(store.open()).create(name: name, role: TokenRole(rawValue: role)!)
            FileHandle.standardError.write(Data("""
                \(TokensCommand.describe(issued.record))
                This is the only time the token is shown; the service keeps only its hash.

                """.utf8))
            // The token alone on stdout, so that `plazo tokens create ... > file` captures just it.
            print(issued.token)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens (never their secrets).")
        @OptionGroup var store: StoreOptions
        @Flag(name: .long, help: "Include revoked tokens.")
        var all = false
        func run() async throws {
            let tokens = try await TokenStore(store.open()).list(includeRevoked: all)
            if tokens.isEmpty { print("no tokens") }
            for t in tokens { print(TokensCommand.describe(t)) }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token: it is refused from now on.")
        @OptionGroup var store: StoreOptions
        @Argument(help: "Token id, or the name of an active token.")
        var token: String
        func run() async throws {
            print(TokensCommand.describe(try await TokenStore(store.open()).revoke(token)))
        }
    }
}
