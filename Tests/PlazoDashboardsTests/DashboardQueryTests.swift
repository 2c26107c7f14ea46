import Foundation
import PlazoModel
import Testing

@testable import PlazoDashboards

/// The dashboard query without HTTP: language, filters, comparisons, format and the refusals, and
/// the answers' wire names as the service's encoder writes them.
@Suite("dashboard queries and answer keys")
struct DashboardQueryTests {
    static func parse(_ pairs: [(String, String)], acceptLanguage: String? = nil, accept: String? = nil, trend: Bool = false)
        throws(DashboardError) -> DashboardQuery
    {
        try DashboardQuery.parse(pairs, acceptLanguage: acceptLanguage, accept: accept, trend: trend)
    }

    @Test("the language: lang= wins, then the best Accept-Language range, else Spanish; a bad lang is refused in Spanish")
    func language() throws {
        #expect(try Self.parse([]).lang == .es)
        #expect(try Self.parse([], acceptLanguage: "fr, en;q=0.8, es;q=0.5").lang == .en)
        #expect(try Self.parse([("lang", "ES")], acceptLanguage: "en").lang == .es)
        #expect(throws: DashboardError.invalidParameter("'de' no es un valor de lang; los valores son: es, en")) {
            try Self.parse([("lang", "de")])
        }
    }

    @Test("filters: codes normalised, several values compare, only one filter compares, a repeat or an unknown name is refused")
    func filters() throws {
        let q = try Self.parse([("state", "9,14,09"), ("offence_category", "ONLINE_GROOMING"), ("cohort", "2025Q1")])
        #expect(q.echoed == ["state": ["09", "14"], "offence": ["online_grooming"], "cohort": ["2025Q1"]])
        #expect(q.groups.count == 2)
        #expect(throws: DashboardError.invalidFilter("solo un filtro puede tener varios valores; state y age_band tienen varios")) {
            try Self.parse([("state", "09,14"), ("age_band", "0-9,10-12")])
        }
        #expect((try? Self.parse([("state", "09"), ("state", "14")])) == nil)
        do {
            _ = try Self.parse([("x", "365")], acceptLanguage: "en")
            Issue.record("x is a trend parameter only")
        } catch {
            #expect(error.code == "unknown_parameter")
            #expect(error.message.hasPrefix("unknown query parameter 'x'; the parameters are: state, offence"))
        }
        #expect(try Self.parse([("x", "365")], trend: true).x == "365")
    }

    @Test("the format: format= wins, else CSV when Accept names it before JSON; the cache key tells formats apart")
    func format() throws {
        #expect(try Self.parse([("format", "svg")]).format == .svg)
        #expect(try Self.parse([], accept: "text/csv, application/json").format == .csv)
        #expect(try Self.parse([], accept: "application/json, text/csv").format == .json)
        #expect(try Self.parse([("format", "json")], accept: "text/csv").format == .json)
        #expect(try Self.parse([("format", "csv")]).key != Self.parse([]).key)
        #expect(throws: DashboardError.self) { try Self.parse([("format", "<svg>")]) }
    }

    @Test("an echoed value is cut and stripped of markup")
    func echo() {
        #expect(DashboardQuery.echo("<script>") == "?script?")
        #expect(DashboardQuery.echo(String(repeating: "A", count: 100)) == String(repeating: "A", count: 40) + "…")
    }

    @Test("a board is named by its path segment, or refused with the list of boards")
    func board() throws {
        #expect(try Self.parse([]).board(named: "victim-updates") == .victimUpdates)
        #expect(throws: DashboardError.self) { try Self.parse([]).board(named: "nope") }
    }

    @Test("the answers' keys, as the service's encoder (snake_case conversion) writes them")
    func wireKeys() throws {
        let interval = DashboardInterval(low: nil, high: 0.5, level: 0.95)
        let point = DashboardPointJSON(
            x: "90", day: 90, label: "día 90", value: nil, interval: interval, status: "not_reached", statusText: "No alcanzado.",
            reliable: false, observedUntil: 60, denominator: DashboardDenominator(value: 10, interval: interval))
        let answer = DashboardResponse(
            metric: "funnel", title: "t", description: "d", lang: "es", filters: ["age_band": ["0-9"]],
            release: DashboardReleaseRef(
                id: 1, title: "r", cutoff: "2025-09-30", cohorts: [], confidenceLevel: 0.95, isPublic: true, selection: "default",
                defaultRule: "x", links: DashboardLinks(release: "/v1/releases/1", dataPackage: "/v1/releases/1/datapackage")),
            intervalNote: "n",
            series: [DashboardSeriesJSON(
                name: "s", title: "t", unit: "days", xAxis: "day", group: ["age_band": "0-9"], groupLabel: "g", cohortPooling: "year",
                poolingNote: "p", points: [point])])
        let json = String(decoding: try PlazoJSON.encode(answer, snakeCase: true), as: UTF8.self)
        #expect(json == #"{"description":"d","filters":{"age_band":["0-9"]},"interval_note":"n","lang":"es","metric":"funnel","# +
            #""release":{"cohorts":[],"confidence_level":0.95,"cutoff":"2025-09-30","default_rule":"x","id":1,"# +
            #""links":{"data_package":"/v1/releases/1/datapackage","release":"/v1/releases/1"},"public":true,"selection":"default","title":"r"},"# +
            #""series":[{"cohort_pooling":"year","group":{"age_band":"0-9"},"group_label":"g","name":"s","points":[{"day":90,"# +
            #""denominator":{"interval":{"high":0.5,"level":0.95,"low":null},"value":10},"interval":{"high":0.5,"level":0.95,"low":null},"# +
            #""label":"día 90","observed_until":60,"reliable":false,"status":"not_reached","status_text":"No alcanzado.","value":null,"x":"90"}],"# +
            #""pooling_note":"p","title":"t","unit":"days","x_axis":"day"}],"title":"t"}"#)

        let trend = DashboardTrendResponse(
            metric: "funnel", title: "t", lang: "en", filters: [:], intervalNote: "n",
            series: [DashboardTrendResponse.Series(
                name: "s", title: "t", unit: "days", xAxis: "day", x: "90", day: nil, label: "l", group: nil, groupLabel: nil,
                points: [DashboardTrendResponse.Point(
                    releaseID: 2, releaseTitle: "r", cutoff: "c", value: 1, interval: interval, status: "ok", statusText: nil,
                    reliable: true, observedUntil: nil, denominator: nil)])])
        let trendJSON = String(decoding: try PlazoJSON.encode(trend, snakeCase: true), as: UTF8.self)
        #expect(trendJSON == #"{"filters":{},"interval_note":"n","lang":"en","metric":"funnel","series":[{"label":"l","name":"s","# +
            #""points":[{"cutoff":"c","denominator":null,"interval":{"high":0.5,"level":0.95,"low":null},"release_id":2,"# +
            #""release_title":"r","reliable":true,"status":"ok","value":1}],"title":"t","unit":"days","x":"90","x_axis":"day"}],"title":"t"}"#)

        let choice = DashboardIndexResponse.ReleaseChoice(
            id: 1, title: "r", cutoff: "c", cohorts: [], isPublic: false, breakdowns: [], breakdownsByYear: [["state"]], links: DashboardLinks())
        let board = DashboardIndexResponse.Board(
            metric: "m", title: "t", description: "d", href: "h", series: [.init(name: "n", title: "t", unit: "u", xAxis: "day")],
            releases: [choice], defaultRelease: 1)
        let index = DashboardIndexResponse(
            lang: "es", dashboards: [board], filters: [.init(name: "n", title: "t", dimension: nil, multiple: false, values: [])],
            parameters: [], defaultRelease: "x", intervalNote: nil)
        let indexJSON = String(decoding: try PlazoJSON.encode(index, snakeCase: true), as: UTF8.self)
        #expect(indexJSON == #"{"dashboards":[{"default_release":1,"description":"d","href":"h","metric":"m","releases":[{"# +
            #""breakdowns":[],"breakdowns_by_year":[["state"]],"cohorts":[],"cutoff":"c","id":1,"links":{},"public":false,"title":"r"}],"# +
            #""series":[{"name":"n","title":"t","unit":"u","x_axis":"day"}],"title":"t"}],"default_release":"x","# +
            #""filters":[{"multiple":false,"name":"n","title":"t","values":[]}],"lang":"es","parameters":[]}"#)
    }
}
