import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import PlazoWire
import Testing

@testable import PlazoServer

/// The one error path and the one JSON configuration: every refusal is an ``APIError`` with the
/// documented body; a value that cannot be encoded is a 500 whose cause is logged, never a `{}`
/// with a success status; JSON never escapes slashes.
@Suite("error path and JSON output")
struct ErrorPathTests {
    /// A router with the service's error middleware and a few routes that fail on purpose.
    static func app(logger: Logger) -> some ApplicationProtocol {
        let router = Router(context: PlazoRequestContext.self)
        router.add(middleware: ErrorBodyMiddleware())
        // NaN has no JSON form: the encoder refuses it.
        router.get("/nan") { _, _ -> Response in try jsonResponse(.ok, ["value": Double.nan]) }
        router.get("/refused") { _, _ -> Response in throw APIError(.conflict, "some_conflict", "a sentence", headers: [.retryAfter: "5"]) }
        router.get("/crash") { _, _ -> Response in throw CocoaError(.fileNoSuchFile) }
        router.get("/path") { _, _ -> Response in try jsonResponse(.ok, ["href": "/v1/releases/1"]) }
        return Application(router: router, logger: logger)
    }

    @Test("an encoding failure is a 500 with the error body, and its cause is logged (not sent)")
    func encodingFailure() async throws {
        let lines = LineBox()
        let logger = Logger(label: "plazo.error-path") { _ in CapturingLogHandler(lines: lines) }
        try await Self.app(logger: logger).test(.router) { client in
            try await client.execute(uri: "/nan", method: .get) { response in
                #expect(response.status == .internalServerError)
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
                #expect(body == ErrorBody(code: "internal", message: "internal error"))
                #expect(!String(buffer: response.body).contains("Double"))
            }
        }
        let logged = lines.all.filter { $0.hasPrefix("error ") }
        #expect(logged.contains { $0.contains("error.cause=encoding Dictionary<String, Double> failed") }, "\(lines.all)")
    }

    @Test("a refusal keeps its status, code, message and headers; an unmapped error is a 500 that reveals nothing")
    func refusals() async throws {
        let lines = LineBox()
        let logger = Logger(label: "plazo.error-path") { _ in CapturingLogHandler(lines: lines) }
        try await Self.app(logger: logger).test(.router) { client in
            try await client.execute(uri: "/refused", method: .get) { response in
                #expect(response.status == .conflict)
                #expect(response.headers[.retryAfter] == "5")
                #expect(response.headers[.contentType] == "application/json")
                #expect(String(buffer: response.body) == #"{"error":{"code":"some_conflict","message":"a sentence"}}"#)
            }
            try await client.execute(uri: "/crash", method: .get) { response in
                #expect(response.status == .internalServerError)
                #expect(String(buffer: response.body) == #"{"error":{"code":"internal","message":"internal error"}}"#)
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                let body = try JSONDecoder().decode(ErrorBody.self, from: Data(response.body.readableBytesView))
                #expect(body.error.code == "not_found")
            }
        }
        #expect(lines.all.contains { $0.contains("unexpected error") && $0.contains("CocoaError") })
    }

    @Test("without the middleware, Hummingbird itself answers an APIError with the same body (HTTPResponseError)")
    func hummingbirdAnswersAPIErrors() async throws {
        let router = Router(context: PlazoRequestContext.self)
        router.get("/refused") { _, _ -> Response in throw APIError(.unprocessableContent, "invalid_spec", "no tables") }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/refused", method: .get) { response in
                #expect(response.status == .unprocessableContent)
                #expect(String(buffer: response.body) == #"{"error":{"code":"invalid_spec","message":"no tables"}}"#)
            }
        }
    }

    @Test("JSON output does not escape slashes, here and in the API's own answers")
    func slashesNotEscaped() async throws {
        try await Self.app(logger: Logger(label: "plazo.error-path")).test(.router) { client in
            try await client.execute(uri: "/path", method: .get) { response in
                #expect(String(buffer: response.body) == #"{"href":"/v1/releases/1"}"#)
            }
        }
        let f = try await APIFixture()
        try await f.app().test(.router) { client in
            try await client.execute(uri: "/v1/dashboards", method: .get, headers: APIFixture.bearer(f.oversight)) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains(#""href":"/v1/dashboards/time-to-decision""#))
                #expect(!text.contains(#"\/"#))
            }
        }
    }
}
