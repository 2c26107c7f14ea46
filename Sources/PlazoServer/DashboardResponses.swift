import Foundation
import PlazoReleases

// The JSON bodies of the oversight dashboards (`specs/openapi.yaml`: `DashboardIndex`,
// `Dashboard`). A point's `value` and interval ends are written as `null` when absent.

/// `GET /v1/dashboards`.
struct DashboardIndexResponse: Encodable {
    struct Series: Encodable {
        var name: String
        var unit: String
        var xAxis: String
        enum CodingKeys: String, CodingKey { case name, unit, xAxis = "x_axis" }
    }

    struct Board: Encodable {
        var metric: String
        var title: String
        var href: String
        var series: [Series]
    }

    var dashboards: [Board]
    var filters: [String]
}

/// `GET /v1/dashboards/{metric}`.
struct DashboardResponse: Encodable {
    struct Interval: Encodable {
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

    struct Point: Encodable {
        var x: String
        var value: Double?
        var interval: Interval
        var releaseID: Int64
        var status: String
        var reliable: Bool
        var observedUntil: Int?
        enum CodingKeys: String, CodingKey {
            case x, value, interval, releaseID = "release_id", status, reliable, observedUntil = "observed_until"
        }
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(x, forKey: .x)
            try c.encode(value, forKey: .value)
            try c.encode(interval, forKey: .interval)
            try c.encode(releaseID, forKey: .releaseID)
            try c.encode(status, forKey: .status)
            try c.encode(reliable, forKey: .reliable)
            try c.encodeIfPresent(observedUntil, forKey: .observedUntil)
        }
    }

    struct Series: Encodable {
        var name: String
        var unit: String
        var xAxis: String
        var points: [Point]
        enum CodingKeys: String, CodingKey { case name, unit, xAxis = "x_axis", points }
    }

    struct ReleaseRef: Encodable {
        var id: Int64
        var title: String
        var cutoff: String
        var cohorts: [String]
        var confidenceLevel: Double
        var href: String
        enum CodingKeys: String, CodingKey { case id, title, cutoff, cohorts, confidenceLevel = "confidence_level", href }
    }

    var metric: String
    var title: String
    /// The filters applied, by parameter name (`state`, `offence_category`, …, `cohort`).
    var filters: [String: String]
    var release: ReleaseRef
    var series: [Series]
}
