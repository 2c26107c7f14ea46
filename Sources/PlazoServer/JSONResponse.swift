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
