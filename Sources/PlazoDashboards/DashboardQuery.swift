import Foundation
import PlazoModel
import PlazoReleases

/// The format a dashboard answer is written in.
public enum DashboardFormat: String, Sendable {
    /// `application/json`, the default.
    case json
    /// `text/csv` (`format=csv`, or `Accept: text/csv` before JSON).
    case csv
    /// `image/svg+xml` (`format=svg`): the answer drawn as a chart (``DashboardChart``).
    case svg
}

/// A dashboard query, parsed and checked: the language, the format, the filters (one of them
/// possibly a comparison of several values), the cohort, the release and, on the trend, the x.
public struct DashboardQuery: Sendable {
    /// The answer's language.
    public var lang: DashboardLanguage = .es
    /// The answer's format.
    public var format: DashboardFormat = .json
    /// One value per dimension, except the comparison dimension.
    var filter: [BreakdownDimension: String] = [:]
    /// The dimension with several values, and its values in the order given.
    var comparison: (BreakdownDimension, [String])?
    var cohort: String?
    /// The release named by `release=`, if any.
    public var releaseID: Int64?
    /// The trend's point (`x=365`, `x=charged`).
    var x: String?

    var text: DashboardText { DashboardText(lang: lang) }

    /// Every dimension filtered on (the comparison's included).
    var dimensions: Set<BreakdownDimension> { Set(filter.keys).union(comparison.map { [$0.0] } ?? []) }

    /// The groups to answer for: one per comparison value, or one.
    var groups: [[BreakdownDimension: String]] {
        guard let (d, values) = comparison else { return [filter] }
        return values.map { v in filter.merging([d: v]) { a, _ in a } }
    }

    /// The filters as answers echo them.
    var echoed: [String: [String]] {
        var out: [String: [String]] = [:]
        for (d, code) in filter { out[Self.parameterName(d)] = [code] }
        if let (d, values) = comparison { out[Self.parameterName(d)] = values }
        if let cohort { out["cohort"] = [cohort] }
        return out
    }

    /// A canonical form of the query, for caching answers: two queries with the same key have the
    /// same answer from the same release for the same reader.
    public var key: String {
        let f = echoed.map { "\($0.key)=\($0.value.joined(separator: ","))" }.sorted().joined(separator: "&")
        return "\(lang.rawValue)|\(format == .csv)|\(format == .svg)|\(f)|\(x ?? "")"
    }

    /// Query parameters naming a breakdown filter (short and long spellings).
    static let filterParameters: [String: BreakdownDimension] = [
        "state": .state, "offence": .offence, "offence_category": .offence, "age_band": .ageBand, "victim_age_band": .ageBand,
        "channel": .channel, "report_channel": .channel, "agency_type": .agencyType,
    ]

    /// The short parameter name of each dimension, as answers echo it.
    static func parameterName(_ d: BreakdownDimension) -> String {
        switch d {
        case .state: "state"
        case .offence: "offence"
        case .ageBand: "age_band"
        case .channel: "channel"
        case .agencyType: "agency_type"
        }
    }

    /// Every parameter a dashboard takes (`x` on the trend only).
    public static let parameters = ["state", "offence", "age_band", "channel", "agency_type", "cohort", "release", "lang", "format"]

    /// The longest value echoed back in an error message: the rest is cut, so that an over-long
    /// query string is never reflected whole.
    static let maxEchoed = 40

    /// Parses a query string's parameters (names and values already percent-decoded, in the order
    /// given) with the request's `Accept-Language` and `Accept` headers. Unknown parameters and
    /// values are refused with the valid choices (never silently ignored, so that a misspelt
    /// filter is not answered with unfiltered figures), in the language asked for.
    public static func parse(
        _ pairs: [(String, String)], acceptLanguage: String?, accept: String?, trend: Bool = false
    ) throws(DashboardError) -> DashboardQuery {
        var query = DashboardQuery()
        // The language first, so that every other refusal is in it.
        let langValue = pairs.last { $0.0 == "lang" }?.1
        guard let lang = DashboardLanguage.negotiate(query: langValue, acceptLanguage: acceptLanguage) else {
            throw .invalidParameter(DashboardText(lang: .es).invalidValue(echo(langValue ?? ""), parameter: "lang", valid: ["es", "en"]))
        }
        query.lang = lang
        let text = query.text
        let accepted = parameters + (trend ? ["x"] : [])
        var seen = Set<String>()
        for (k, v) in pairs {
            if k != "lang", !seen.insert(filterParameters[k].map(parameterName) ?? k).inserted {
                throw .invalidFilter(text.repeated(echo(k)))
            }
            if let dimension = filterParameters[k] {
                let values = v.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
                var codes: [String] = []
                for value in values {
                    guard let code = normalise(value, for: dimension) else {
                        throw .invalidFilter(text.invalidValue(echo(value), parameter: k, valid: dimension.codes))
                    }
                    if !codes.contains(code) { codes.append(code) }
                }
                if codes.count == 1 {
                    query.filter[dimension] = codes[0]
                } else {
                    if let (other, _) = query.comparison {
                        throw .invalidFilter(text.oneComparison(parameterName(other), parameterName(dimension)))
                    }
                    query.comparison = (dimension, codes)
                }
            } else if k == "cohort" {
                // A quarter (`2025Q1`), or a report year (`2025`) answered by tables pooled by year.
                let year = v.count == 4 && v.allSatisfy(\.isASCII) && v.allSatisfy(\.isNumber) && (2000...2255).contains(Int(v) ?? 0)
                guard Quarter(canonical: v) != nil || year else {
                    throw .invalidFilter(text.invalidValue(echo(v), parameter: "cohort", valid: ["2024Q1", "2024Q2", "…", "2024", "…"]))
                }
                query.cohort = v
            } else if k == "release" {
                guard let id = Int64(v), id > 0 else {
                    throw .invalidFilter(text.invalidValue(echo(v), parameter: "release", valid: ["1", "2", "…"]))
                }
                query.releaseID = id
            } else if k == "format" {
                guard let format = DashboardFormat(rawValue: v) else {
                    throw .invalidParameter(text.invalidValue(echo(v), parameter: "format", valid: ["json", "csv", "svg"]))
                }
                query.format = format
            } else if k == "x", trend {
                guard !v.isEmpty, v.count <= 16 else {
                    throw .invalidParameter(text.invalidValue(echo(v), parameter: "x", valid: ["365", "charged", "…"]))
                }
                query.x = v
            } else if k != "lang" {
                throw .unknownParameter(text.unknownParameter(echo(k), valid: accepted))
            }
        }
        // Content negotiation when `format` is not given: CSV when the client asks for it before JSON.
        if !pairs.contains(where: { $0.0 == "format" }), let accept, let csvAt = accept.range(of: "text/csv") {
            let jsonAt = accept.range(of: "application/json")
            query.format = jsonAt == nil || csvAt.lowerBound < jsonAt!.lowerBound ? .csv : .json
        }
        return query
    }

    /// A value as an error message may echo it: letters, digits and `_ . : , + -` only (anything
    /// else becomes `?`, so no markup or control character is ever reflected), at most
    /// ``maxEchoed`` of them. Every valid value is made of those characters.
    static func echo(_ value: String) -> String {
        let safe = String(value.prefix(maxEchoed).map { c -> Character in
            c.isLetter || c.isNumber || "_.:,+- ".contains(c) ? c : "?"
        })
        return value.count > maxEchoed ? safe + "…" : safe
    }

    /// A filter value as its public code label: states also as `9` or `09`.
    static func normalise(_ value: String, for dimension: BreakdownDimension) -> String? {
        let codes = dimension.codes
        if codes.contains(value) { return value }
        if dimension == .state, let n = Int(value), (1...32).contains(n) { return n < 10 ? "0\(n)" : "\(n)" }
        return codes.first { $0.caseInsensitiveCompare(value) == .orderedSame }
    }

    /// The dashboard named `name` (a path's `{metric}`), or the 404 that lists the dashboards.
    public func board(named name: String) throws(DashboardError) -> DashboardBoard {
        guard let board = DashboardBoard(rawValue: name) else {
            throw .unknownMetric(text.unknownMetric(Self.echo(name), valid: DashboardBoard.allCases.map(\.rawValue)))
        }
        return board
    }
}
