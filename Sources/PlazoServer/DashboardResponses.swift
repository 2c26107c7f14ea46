import Foundation
import PlazoReleases

// The JSON bodies of the oversight dashboards (`specs/openapi.yaml`: `DashboardIndex`,
// `Dashboard`, `DashboardTrend`). Every key is snake_case; an absent value or interval end is
// written as `null`, never left out, so a client can rely on the keys. Figures are rounded to
// what the noise lets them say (proportions to 4 decimals, days to 1, cases to whole numbers).

/// An interval at a confidence level; an end is null when unbounded within follow-up.
struct DashboardInterval: Encodable, Sendable {
    var low: Double?
    var high: Double?
    var level: Double
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(low, forKey: .low)
        try c.encode(high, forKey: .high)
        try c.encode(level, forKey: .level)
    }
    enum CodingKeys: String, CodingKey { case low, high, level }
}

/// The noisy number of cases behind a share, with its interval.
struct DashboardDenominator: Encodable, Sendable {
    var value: Double
    var interval: DashboardInterval
}

/// Links to what the caller may read, and nothing else.
struct DashboardLinks: Encodable, Sendable {
    /// The release document (`/v1/releases/{id}`): for researchers, and for everyone when public.
    var release: String?
    /// The Data Package download (zip).
    var dataPackage: String?
    enum CodingKeys: String, CodingKey { case release, dataPackage = "data_package" }
}

/// `GET /v1/dashboards`: what exists and what it can answer.
struct DashboardIndexResponse: Encodable, Sendable {
    struct Series: Encodable, Sendable {
        var name: String
        var title: String
        var unit: String
        var xAxis: String
        enum CodingKeys: String, CodingKey { case name, title, unit, xAxis = "x_axis" }
    }

    /// A release a dashboard can be read from.
    struct ReleaseChoice: Encodable, Sendable {
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
        enum CodingKeys: String, CodingKey { case id, title, cutoff, cohorts, isPublic = "public", breakdowns, breakdownsByYear = "breakdowns_by_year", links }
    }

    struct Board: Encodable, Sendable {
        var metric: String
        var title: String
        var description: String
        var href: String
        var series: [Series]
        /// The releases that can answer it, newest first.
        var releases: [ReleaseChoice]
        /// The release answered when none is named.
        var defaultRelease: Int64?
        enum CodingKeys: String, CodingKey {
            case metric, title, description, href, series, releases, defaultRelease = "default_release"
        }
    }

    struct FilterValue: Encodable, Sendable {
        var code: String
        var label: String
    }

    struct Filter: Encodable, Sendable {
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
    enum CodingKeys: String, CodingKey {
        case lang, dashboards, filters, parameters, defaultRelease = "default_release", intervalNote = "interval_note"
    }
}

/// One point of a series.
struct DashboardPointJSON: Encodable, Sendable {
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
    enum CodingKeys: String, CodingKey {
        case x, day, label, value, interval, status, statusText = "status_text", reliable, observedUntil = "observed_until", denominator
    }
    func encode(to encoder: any Encoder) throws {
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
struct DashboardReleaseRef: Encodable, Sendable {
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
    enum CodingKeys: String, CodingKey {
        case id, title, cutoff, cohorts, confidenceLevel = "confidence_level", isPublic = "public", selection,
             defaultRule = "default_rule", links
    }
}

/// One series: a metric for one group of the comparison.
struct DashboardSeriesJSON: Encodable, Sendable {
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
    enum CodingKeys: String, CodingKey {
        case name, title, unit, xAxis = "x_axis", group, groupLabel = "group_label", cohortPooling = "cohort_pooling"
        case poolingNote = "pooling_note", points
    }
}

/// `GET /v1/dashboards/{metric}`.
struct DashboardResponse: Encodable, Sendable {
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
    enum CodingKeys: String, CodingKey { case metric, title, description, lang, filters, release, intervalNote = "interval_note", series }
}

/// `GET /v1/dashboards/{metric}/trend`: the same figures across releases, oldest first.
struct DashboardTrendResponse: Encodable, Sendable {
    struct Point: Encodable, Sendable {
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
            case releaseID = "release_id", releaseTitle = "release_title", cutoff, value, interval, status, statusText = "status_text",
                 reliable, observedUntil = "observed_until", denominator
        }
        func encode(to encoder: any Encoder) throws {
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

    struct Series: Encodable, Sendable {
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
        enum CodingKeys: String, CodingKey {
            case name, title, unit, xAxis = "x_axis", x, day, label, group, groupLabel = "group_label", points
        }
    }

    var metric: String
    var title: String
    var lang: String
    var filters: [String: [String]]
    var intervalNote: String
    var series: [Series]
    enum CodingKeys: String, CodingKey { case metric, title, lang, filters, intervalNote = "interval_note", series }
}
