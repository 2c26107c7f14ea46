import Foundation
import PlazoReleases

// The JSON bodies of the oversight dashboards (`specs/openapi.yaml`: `DashboardIndex`,
// `Dashboard`, `DashboardTrend`). Every key is snake_case: the property names are converted by
// the encoder (`PlazoJSON.encoder(snakeCase: true)`, the server's `responseEncoder`), and only a
// key the conversion cannot give is spelt (`isPublic` is `public`). An absent value or interval
// end is written as `null`, never left out, so a client can rely on the keys. Figures are rounded
// to what the noise lets them say (proportions to 4 decimals, days to 1, cases to whole numbers).
// The properties are the module's own: clients get the answers as JSON, CSV or SVG.

/// An interval at a confidence level; an end is null when unbounded within follow-up.
public struct DashboardInterval: Encodable, Sendable {
    var low: Double?
    var high: Double?
    var level: Double
    /// Writes both ends, `null` when absent.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(low, forKey: .low)
        try c.encode(high, forKey: .high)
        try c.encode(level, forKey: .level)
    }
    enum CodingKeys: String, CodingKey { case low, high, level }
}

/// The noisy number of cases behind a share, with its interval.
public struct DashboardDenominator: Encodable, Sendable {
    var value: Double
    var interval: DashboardInterval
}

/// Links to what the caller may read, and nothing else.
public struct DashboardLinks: Encodable, Sendable {
    /// The release document (`/v1/releases/{id}`): for researchers, and for everyone when public.
    var release: String?
    /// The Data Package download (zip).
    var dataPackage: String?
}

/// `GET /v1/dashboards`: what exists and what it can answer.
public struct DashboardIndexResponse: Encodable, Sendable {
    /// A series a dashboard shows.
    public struct Series: Encodable, Sendable {
        var name: String
        var title: String
        var unit: String
        var xAxis: String
    }

    /// A release a dashboard can be read from.
    public struct ReleaseChoice: Encodable, Sendable {
        var id: Int64
        var title: String
        var cutoff: String
        var cohorts: [String]
        var isPublic: Bool
        /// Each is one table's dimension set: any subset of one of them can be filtered on.
        var breakdowns: [[String]]
        /// Breakdowns of tables pooled by report year: they answer these filters without a
        /// quarter as `cohort` (by default) and with a year (`2025`).
        var breakdownsByYear: [[String]] = []
        var links: DashboardLinks
        /// `isPublic` is `public` on the wire; the encoder converts the rest.
        enum CodingKeys: String, CodingKey { case id, title, cutoff, cohorts, isPublic = "public", breakdowns, breakdownsByYear, links }
    }

    /// A dashboard, its series and the releases that can answer it.
    public struct Board: Encodable, Sendable {
        var metric: String
        var title: String
        var description: String
        var href: String
        var series: [Series]
        /// The releases that can answer it, newest first.
        var releases: [ReleaseChoice]
        /// The release answered when none is named.
        var defaultRelease: Int64?
    }

    /// A value a filter takes, with its label in the answer's language.
    public struct FilterValue: Encodable, Sendable {
        var code: String
        var label: String
    }

    /// A query parameter that filters, and its values.
    public struct Filter: Encodable, Sendable {
        var name: String
        var title: String
        /// The breakdown dimension it filters on (for `state`, `offence`, …); nil for `cohort`, `release`.
        var dimension: String?
        /// Whether several comma-separated values give one series each (a comparison).
        var multiple: Bool
        var values: [FilterValue]
    }

    var lang: String
    var dashboards: [Board]
    var filters: [Filter]
    /// The parameters every dashboard takes besides the filters.
    var parameters: [String]
    /// How the default release is chosen.
    var defaultRelease: String
    var intervalNote: String?
}

/// One point of a series.
public struct DashboardPointJSON: Encodable, Sendable {
    /// The x code: a day, a stage, an outcome, an age band, a share or a cohort.
    var x: String
    /// For a day axis: the horizon as an integer ("by day 365").
    var day: Int?
    /// The x value in the answer's language.
    var label: String
    var value: Double?
    var interval: DashboardInterval
    var status: String
    /// What a status other than `ok` means, in the answer's language.
    var statusText: String?
    var reliable: Bool
    var observedUntil: Int?
    var denominator: DashboardDenominator?
    enum CodingKeys: String, CodingKey { case x, day, label, value, interval, status, statusText, reliable, observedUntil, denominator }
    /// Writes `value` and `denominator` as `null` when absent; leaves out `day`, `status_text`
    /// and `observed_until` when they do not apply.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(x, forKey: .x)
        try c.encodeIfPresent(day, forKey: .day)
        try c.encode(label, forKey: .label)
        try c.encode(value, forKey: .value)
        try c.encode(interval, forKey: .interval)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(statusText, forKey: .statusText)
        try c.encode(reliable, forKey: .reliable)
        try c.encodeIfPresent(observedUntil, forKey: .observedUntil)
        try c.encode(denominator, forKey: .denominator)
    }
}

/// The release an answer was read from, and why that one.
public struct DashboardReleaseRef: Encodable, Sendable {
    var id: Int64
    var title: String
    var cutoff: String
    var cohorts: [String]
    var confidenceLevel: Double
    var isPublic: Bool
    /// `requested` (named by `release=`) or `default` (see `default_rule`).
    var selection: String
    var defaultRule: String
    var links: DashboardLinks
    /// `isPublic` is `public` on the wire; the encoder converts the rest.
    enum CodingKeys: String, CodingKey { case id, title, cutoff, cohorts, confidenceLevel, isPublic = "public", selection, defaultRule, links }
}

/// One series: a metric for one group of the comparison.
public struct DashboardSeriesJSON: Encodable, Sendable {
    var name: String
    var title: String
    var unit: String
    var xAxis: String
    /// For a comparison (`state=09,14`): the value this series is for, e.g. `{"state": "09"}`.
    var group: [String: String]?
    var groupLabel: String?
    /// `year` when the figures pool the cohorts of each report year (state figures by default),
    /// absent for quarterly cohorts; ``poolingNote`` says it in words.
    var cohortPooling: String? = nil
    var poolingNote: String? = nil
    var points: [DashboardPointJSON]
}

/// `GET /v1/dashboards/{metric}`.
public struct DashboardResponse: Encodable, Sendable {
    var metric: String
    var title: String
    var description: String
    var lang: String
    /// The filters applied, by parameter name (`state`, `offence`, …, `cohort`); a comparison's
    /// filter lists its values.
    var filters: [String: [String]]
    var release: DashboardReleaseRef
    var intervalNote: String
    var series: [DashboardSeriesJSON]
}

/// `GET /v1/dashboards/{metric}/trend`: the same figures across releases, oldest first.
public struct DashboardTrendResponse: Encodable, Sendable {
    /// The figure of one release.
    public struct Point: Encodable, Sendable {
        var releaseID: Int64
        var releaseTitle: String
        var cutoff: String
        var value: Double?
        var interval: DashboardInterval
        var status: String
        var statusText: String?
        var reliable: Bool
        var observedUntil: Int?
        var denominator: DashboardDenominator?
        enum CodingKeys: String, CodingKey {
            case releaseID, releaseTitle, cutoff, value, interval, status, statusText, reliable, observedUntil, denominator
        }
        /// Writes `value` and `denominator` as `null` when absent; leaves out `status_text` and
        /// `observed_until` when they do not apply.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(releaseID, forKey: .releaseID)
            try c.encode(releaseTitle, forKey: .releaseTitle)
            try c.encode(cutoff, forKey: .cutoff)
            try c.encode(value, forKey: .value)
            try c.encode(interval, forKey: .interval)
            try c.encode(status, forKey: .status)
            try c.encodeIfPresent(statusText, forKey: .statusText)
            try c.encode(reliable, forKey: .reliable)
            try c.encodeIfPresent(observedUntil, forKey: .observedUntil)
            try c.encode(denominator, forKey: .denominator)
        }
    }

    /// One series at one x (and comparison group), across releases.
    public struct Series: Encodable, Sendable {
        var name: String
        var title: String
        var unit: String
        var xAxis: String
        var x: String
        var day: Int?
        var label: String
        var group: [String: String]?
        var groupLabel: String?
        var points: [Point]
    }

    var metric: String
    var title: String
    var lang: String
    var filters: [String: [String]]
    var intervalNote: String
    var series: [Series]
}
