import Foundation

/// The one JSON configuration of everything Plazo writes for clients and people: the API's
/// bodies, `datapackage.json` and every CLI `--json` output.
///
/// - keys sorted (`.sortedKeys`), so that the same value always gives the same bytes;
/// - slashes not escaped (`.withoutEscapingSlashes`): `"/v1/releases/1"`, not `"\/v1\/releases\/1"`;
/// - dates as RFC 3339 (`.iso8601`);
/// - non-finite numbers refused (an encoding error, never a silent `null` or `{}`).
///
/// Wire names are snake_case (`docs/api-guide.md`, "Naming"): types spell them with explicit
/// `CodingKeys`, or views of stored types are encoded with ``encoder(pretty:snakeCase:)`` and
/// `snakeCase: true`.
public enum PlazoJSON {
    /// A new encoder with Plazo's configuration. `pretty` adds indentation (files and terminals);
    /// `snakeCase` converts camelCase property names (for views of types whose stored form keeps
    /// its own names, such as a release's metadata).
    public static func encoder(pretty: Bool = false, snakeCase: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        if snakeCase { encoder.keyEncodingStrategy = .convertToSnakeCase }
        return encoder
    }

    /// `value` encoded with ``encoder(pretty:snakeCase:)``.
    public static func encode<T: Encodable>(_ value: T, pretty: Bool = false, snakeCase: Bool = false) throws -> [UInt8] {
        Array(try encoder(pretty: pretty, snakeCase: snakeCase).encode(value))
    }

    /// `value` encoded as text, for printing (`--json`).
    public static func text<T: Encodable>(_ value: T, pretty: Bool = true, snakeCase: Bool = false) throws -> String {
        String(decoding: try encode(value, pretty: pretty, snakeCase: snakeCase), as: UTF8.self)
    }
}
