import Foundation
import Hummingbird
import NIOCore
import PlazoPrivacy

/// The largest JSON request body the API reads (release specs, agency and token forms).
let maxJSONBodySize = 256 * 1024

/// Reads a JSON body into a `Decodable` value: 400 `bad_json` if it does not decode, 413
/// `too_large` over ``maxJSONBodySize``. An empty body is `emptyAs` when given.
func readJSON<T: Decodable>(_ request: Request, as type: T.Type, emptyAs: T? = nil) async throws(APIError) -> T {
    let buffer: ByteBuffer
    do { buffer = try await request.body.collect(upTo: maxJSONBodySize) } catch {
        throw APIError.tooLarge(limit: maxJSONBodySize)
    }
    if buffer.readableBytes == 0, let emptyAs { return emptyAs }
    do { return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView)) } catch let error as DecodingError {
        throw APIError(.badRequest, "bad_json", "the body is not a valid request: \(decodingProblem(error))")
    } catch {
        throw APIError(.badRequest, "bad_json", "the body is not valid JSON")
    }
}

/// A request body that may be left out: an empty body decodes as ``emptyBody``.
protocol EmptyBodyDecodable: Decodable {
    /// The value of an empty body.
    static var emptyBody: Self { get }
}

/// The decoder of request bodies (Hummingbird's `RequestContext.requestDecoder`, used by
/// `request.decode(as:context:)`): ``readJSON(_:as:emptyAs:)``, so that a body that does not
/// decode is a 400 `bad_json` naming the field, never its value, and one over
/// ``maxJSONBodySize`` a 413 `too_large`. Field names are the types' own `CodingKeys` (no key
/// conversion: a camelCase key in a body stays unknown).
public struct PlazoRequestDecoder: RequestDecoder {
    /// The decoder.
    public init() {}

    /// The body as `type`.
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        try await readJSON(request, as: type, emptyAs: (type as? any EmptyBodyDecodable.Type)?.emptyBody as? T)
    }
}

extension PlazoRequestContext {
    /// Plazo's request body decoding (``PlazoRequestDecoder``).
    public var requestDecoder: PlazoRequestDecoder { PlazoRequestDecoder() }
}

extension Parameters {
    /// The path parameter `name`, percent-decoded (`/v1/agencies/Fiscal%C3%ADa%20Jalisco`).
    func requireDecoded(_ name: String) throws -> String {
        let raw = try require(name)
        return raw.removingPercentEncoding ?? raw
    }
}

/// A sentence about a decoding failure that names the field, never the value.
func decodingProblem(_ error: DecodingError) -> String {
    func path(_ context: DecodingError.Context) -> String {
        let p = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        return p.isEmpty ? "the body" : "'\(p)'"
    }
    switch error {
    case let .keyNotFound(key, context):
        let parent = path(context)
        return "missing field '\(key.stringValue)'" + (parent == "the body" ? "" : " in \(parent)")
    case let .typeMismatch(_, context): return "\(path(context)) has the wrong type"
    case let .valueNotFound(_, context): return "\(path(context)) is null"
    case let .dataCorrupted(context):
        return context.codingPath.isEmpty ? "not valid JSON" : "\(path(context)) is invalid: \(context.debugDescription)"
    @unknown default: return "not a valid request"
    }
}

/// Unix seconds as an RFC 3339 timestamp.
func timestamp(_ seconds: Int64) -> String {
    Date(timeIntervalSince1970: TimeInterval(seconds)).formatted(.iso8601)
}

/// A date as an RFC 3339 timestamp.
func timestamp(_ date: Date) -> String { date.formatted(.iso8601) }

/// A path parameter, percent-decoded (`/v1/agencies/Fiscal%C3%ADa%20Jalisco`).
func pathParameter(_ context: PlazoRequestContext, _ name: String) -> String {
    let raw = context.parameters.get(name) ?? ""
    return raw.removingPercentEncoding ?? raw
}
