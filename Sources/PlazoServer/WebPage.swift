import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web dashboard at `/`: one static HTML page, its script and its style sheet, compiled into
/// the binary (SwiftPM `embedInCode` resources from `Sources/PlazoServer/Web/`), so the service
/// needs no files beside it and no separate deployment. The page reads the same public API as
/// everyone (`GET /v1/dashboards…`, JSON for numbers and tables, `format=svg` for charts drawn by
/// ``DashboardChart``); it holds no data of its own.
///
/// Every answer carries a strict Content-Security-Policy (scripts, styles and connections from
/// this origin only, no inline script, no framing), `X-Content-Type-Options: nosniff` and
/// `Referrer-Policy: no-referrer`. The bytes are the same whatever the query string: nothing of
/// the request is reflected (the script reads only the values it recognises).
enum WebPage {
    /// The policy of the page: nothing inline, nothing from elsewhere. `img-src data:` is for the
    /// empty favicon only.
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    /// One asset: its bytes, media type and entity tag.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
        let etag: String

        init(_ bytes: [UInt8], _ contentType: String) {
            self.bytes = bytes
            self.contentType = contentType
            // FNV-1a over the bytes: changes whenever a new binary serves different bytes.
            var h: UInt64 = 0xCBF2_9CE4_8422_2325
            for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01B3 }
            self.etag = "\"" + String(h, radix: 16) + "\""
        }
    }

    static let page = Asset(PackageResources.index_html, "text/html; charset=utf-8")
    static let script = Asset(PackageResources.dashboard_js, "text/javascript; charset=utf-8")
    static let styles = Asset(PackageResources.dashboard_css, "text/css; charset=utf-8")

    /// The routes: `/` (also `/index.html`), `/dashboard.js` and `/dashboard.css`; no token.
    static func addRoutes(to router: Router<PlazoRequestContext>) {
        router.get("/") { request, _ in respond(page, request) }
        router.get("/index.html") { request, _ in respond(page, request) }
        router.get("/dashboard.js") { request, _ in respond(script, request) }
        router.get("/dashboard.css") { request, _ in respond(styles, request) }
    }

    /// The asset with its headers; `304 Not Modified` when the client already has these bytes.
    /// Clients revalidate every time (`no-cache`), so an upgraded service is seen at once.
    static func respond(_ asset: Asset, _ request: Request) -> Response {
        var headers: HTTPFields = [
            .contentType: asset.contentType,
            .contentSecurityPolicy: contentSecurityPolicy,
            .xContentTypeOptions: "nosniff",
            .cacheControl: "no-cache",
            .eTag: asset.etag,
        ]
        headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        if let match = request.headers[.ifNoneMatch], match.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == asset.etag }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
    }
}
