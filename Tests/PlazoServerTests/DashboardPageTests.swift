import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import PlazoServer

/// The dashboards' charts and web page through the router: `format=svg` answers with its headers
/// and the JSON's figures, refusals stay JSON, and the page is served with its security headers.
/// The drawing itself: `PlazoDashboardsTests/DashboardChartTests.swift`.
@Suite("dashboard charts (SVG) through the router, and the web page")
struct DashboardPageTests {
    /// The drawn figures of an SVG answer (`<g class="point …">`, with their attributes), or nil
    /// when the answer is not well-formed XML.
    final class SVG: NSObject, XMLParserDelegate {
        var points: [(Int, (name: String, attributes: [String: String]))] = []
        private var count = 0

        static func parse(_ text: String) -> SVG? {
            let reader = SVG()
            let parser = XMLParser(data: Data(text.utf8))
            parser.delegate = reader
            return parser.parse() ? reader : nil
        }

        func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
            if name == "g", (attributes["class"] ?? "").split(separator: " ").contains("point") { points.append((count, (name, attributes))) }
            count += 1
        }
    }

    // MARK: - Through the router

    @Test("format=svg answers image/svg+xml with the JSON's figures, a sandboxing CSP and nosniff; refusals stay JSON")
    func svgRoute() async throws {
        let f = try await DashboardAPITests.fixture()
        let o = APIFixture.bearer(f.oversight)
        try await f.app().test(.router) { client in
            try await DashboardAPITests.createReleases(f, client, titles: ["only"])
            for uri in ["/v1/dashboards/funnel?format=svg", "/v1/dashboards/funnel?format=svg&state=09,14&lang=en", "/v1/dashboards/time-to-decision?format=svg",
                        "/v1/dashboards/time-to-charge/trend?format=svg&x=90"] {
                let r = try await client.execute(uri: uri, method: .get, headers: o)
                #expect(r.status == .ok, "\(uri)")
                #expect(r.headers[.contentType] == "image/svg+xml; charset=utf-8")
                #expect(r.headers[.contentSecurityPolicy]?.hasPrefix("default-src 'none'") == true)
                #expect(r.headers[.xContentTypeOptions] == "nosniff")
                #expect(r.headers[.contentDisposition]?.hasSuffix(".svg\"") == true)
                let svg = try #require(SVG.parse(String(buffer: r.body)))
                #expect(!svg.points.isEmpty, "\(uri)")
            }
            // The same figures as the JSON.
            let json = try await client.execute(uri: "/v1/dashboards/funnel", method: .get, headers: o)
            let answer = try JSONSerialization.jsonObject(with: Data(json.body.readableBytesView)) as! [String: Any]
            let series = answer["series"] as! [[String: Any]]
            let r = try await client.execute(uri: "/v1/dashboards/funnel?format=svg", method: .get, headers: o)
            let svg = try #require(SVG.parse(String(buffer: r.body)))
            for s in series {
                for p in s["points"] as! [[String: Any]] {
                    guard let v = p["value"] as? Double else { continue }
                    let g = svg.points.first { $0.1.attributes["data-series"] == s["name"] as? String && $0.1.attributes["data-x"] == p["x"] as? String }
                    #expect(g?.1.attributes["data-value"].flatMap(Double.init) == v, "\(s["name"] ?? "") \(p["x"] ?? "")")
                }
            }
            // A refused query is JSON, never a chart; the value is cut, never reflected whole.
            for uri in ["/v1/dashboards/funnel?format=svg&state=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                        "/v1/dashboards/funnel?format=svg&lang=%22%3E%3Cimg%20src=x%3E", "/v1/dashboards/funnel?format=%3Csvg%3E",
                        "/v1/dashboards/funnel?format=svg&state=" + String(repeating: "A", count: 3000)] {
                let bad = try await client.execute(uri: uri, method: .get, headers: o)
                #expect(bad.status == .badRequest, "\(uri.prefix(80))")
                #expect(bad.headers[.contentType] == "application/json")
                #expect(bad.body.readableBytes < 1000)
            }
        }
    }

    @Test("the page, its script and its style sheet: public, strict CSP, nosniff, the same bytes whatever the query, 304 on revalidation")
    func page() async throws {
        let f = try await APIFixture()
        try await f.app().test(.router) { client in
            let page = try await client.execute(uri: "/", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let csp = try #require(page.headers[.contentSecurityPolicy])
            #expect(csp.contains("default-src 'self'") && csp.contains("script-src 'self'") && !csp.contains("unsafe"))
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            let html = String(buffer: page.body)
            #expect(html.hasPrefix("<!doctype html>") && html.contains("<html lang=\"es\">"))
            #expect(html.contains("<script src=\"/dashboard.js\" defer></script>"))
            #expect(html.components(separatedBy: "<script").count == 2, "one script element, no inline script")
            let hostile = try await client.execute(uri: "/?lang=%22%3E%3Cscript%3Ealert(1)%3C/script%3E&state=%3Cimg%3E", method: .get)
            #expect(hostile.status == .ok && hostile.body == page.body)
            for (uri, type) in [("/dashboard.js", "text/javascript; charset=utf-8"), ("/dashboard.css", "text/css; charset=utf-8")] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .ok && r.headers[.contentType] == type && r.headers[.xContentTypeOptions] == "nosniff")
            }
            let etag = try #require(page.headers[.eTag])
            let again = try await client.execute(uri: "/", method: .get, headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            // The script builds the page from text nodes only.
            let script = String(buffer: try await client.execute(uri: "/dashboard.js", method: .get).body)
            for forbidden in ["innerHTML", "outerHTML =", "insertAdjacentHTML", "document.write", "eval(", "localStorage", "sessionStorage", "document.cookie"] {
                #expect(!script.contains(forbidden), "dashboard.js uses \(forbidden)")
            }
        }
    }
}
