import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PlazoModel

/// A JSON response of `value`, encoded with Plazo's one configuration (``PlazoJSON``: sorted keys,
/// unescaped slashes). An encoding failure is thrown as a 500 whose cause (the type and the
/// encoder's reason) is logged by ``ErrorBodyMiddleware``: never a `{}` with a success status.
func jsonResponse<T: Encodable>(
    _ status: HTTPResponse.Status = .ok, _ value: T, headers: HTTPFields = [:], encoder: JSONEncoder = PlazoJSON.encoder()
) throws(APIError) -> Response {
    jsonResponse(status, bytes: try encodeJSON(value, encoder: encoder), headers: headers)
}

/// `value` as JSON bytes, or a 500 ``APIError`` naming the cause.
func encodeJSON<T: Encodable>(_ value: T, encoder: JSONEncoder = PlazoJSON.encoder()) throws(APIError) -> [UInt8] {
    do { return Array(try encoder.encode(value)) } catch {
        throw APIError.internalError(cause: "encoding \(T.self) failed: \(error)")
    }
}

/// A JSON response of bytes already encoded.
func jsonResponse(_ status: HTTPResponse.Status, bytes: [UInt8], headers: HTTPFields = [:]) -> Response {
    var fields = headers
    fields[.contentType] = "application/json"
    return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
}

/// The encoder of every typed answer (Hummingbird's `RequestContext.responseEncoder`): a handler
/// that returns a `ResponseEncodable` value is answered with it as JSON in Plazo's one
/// configuration (``PlazoJSON``), its keys converted from the property names to snake_case
/// (`intervalNote` is `interval_note`; a key the conversion cannot give is spelt in the type's
/// `CodingKeys`), `Content-Type: application/json`, status 200 (`EditedResponse` for another
/// status or more headers). An answer that cannot be encoded is a 500 whose cause is logged.
public struct PlazoResponseEncoder: ResponseEncoder {
    /// The encoder.
    public init() {}

    /// `value` as JSON bytes, or a 500 ``APIError`` naming the cause (for answers kept as bytes,
    /// such as the dashboards' cache).
    func bytes<T: Encodable>(_ value: T) throws(APIError) -> [UInt8] {
        try encodeJSON(value, encoder: PlazoJSON.encoder(snakeCase: true))
    }

    /// `value` as a JSON response.
    public func encode(_ value: some Encodable, from request: Request, context: some RequestContext) throws -> Response {
        jsonResponse(.ok, bytes: try bytes(value))
    }
}

extension PlazoRequestContext {
    /// Plazo's JSON configuration for typed answers (``PlazoResponseEncoder``).
    public var responseEncoder: PlazoResponseEncoder { PlazoResponseEncoder() }
}
