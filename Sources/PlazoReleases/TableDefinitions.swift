import Foundation
import PlazoCases
import PlazoModel

/// A breakdown dimension of a release table. Its cells range over the **public code list** of the
/// attribute (``codes``), fixed by the event vocabulary v1 and never taken from the data, so that an
/// empty cell is released with noise like any other (no cell appears or disappears because of the
/// data).
public enum BreakdownDimension: String, CaseIterable, Sendable, Codable, Hashable, Comparable {
    /// Mexico's federal entity, INEGI codes 01–32 plus `unknown` (33 cells).
    case state = "state"
    /// Online CSEA offence category (10 cells).
    case offence = "offence_category"
    /// Victim age band at the report (5 cells).
    case ageBand = "victim_age_band"
    /// How the report reached the authorities (6 cells).
    case channel = "report_channel"
    /// The type of the agency that recorded the (chosen) report (9 cells).
    case agencyType = "agency_type"

    /// The public code labels, in code order (index = code number).
    public var codes: [String] {
        switch self {
        case .state: MexicanState.allCases.map(\.label)
        case .offence: OffenceCategory.allCases.map(\.label)
        case .ageBand: AgeBand.allCases.map(\.label)
        case .channel: ReportChannel.allCases.map(\.label)
        case .agencyType: AgencyType.allCases.map(\.label)
        }
    }

    /// Human meanings of the codes, in code order.
    public var meanings: [String] {
        switch self {
        case .state: MexicanState.allCases.map(\.meaning)
        case .offence: OffenceCategory.allCases.map(\.meaning)
        case .ageBand: AgeBand.allCases.map(\.meaning)
        case .channel: ReportChannel.allCases.map(\.meaning)
        case .agencyType: AgencyType.allCases.map(\.meaning)
        }
    }

    /// Spanish meanings of the codes, in code order (the vocabulary's `etiqueta (es)`).
    public var spanishMeanings: [String] {
        switch self {
        case .state: MexicanState.allCases.map(\.spanishLabel)
        case .offence: OffenceCategory.allCases.map(\.spanishLabel)
        case .ageBand: AgeBand.allCases.map(\.spanishLabel)
        case .channel: ReportChannel.allCases.map(\.spanishLabel)
        case .agencyType: AgencyType.allCases.map(\.spanishLabel)
        }
    }

    /// Number of cells (codes) of the dimension.
    public var cardinality: Int { codes.count }

    /// Order of declaration (state, offence, age band, channel, agency type).
    public static func < (a: BreakdownDimension, b: BreakdownDimension) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }

    /// Bits used for the dimension in ``CaseProjection`` codes.
    var bitWidth: Int {
        switch self {
        case .state: 6
        case .offence: 4
        case .ageBand: 3
        case .channel: 3
        case .agencyType: 4
        }
    }
}

/// The kinds of table a release can contain (`docs/metrics.md`). In every kind each case of the
/// released cohorts falls in **at most one cell** (with weight 1), whatever the breakdown, so every
/// table has L1 = L2 sensitivity 1 under adding or removing one case.
public enum TableKind: String, CaseIterable, Sendable, Codable, Hashable {
    /// Table 1: life table of time from report to the first decision. Cells: time bin × outcome
    /// (`charged`, `closed_without_charge`, `censored`). Every case is in exactly one cell.
    case timeToFirstDecision = "time_to_first_decision"
    /// Table 2: furthest stage reached by the cutoff (6 cells). Every case is in exactly one cell.
    case attrition = "attrition"
    /// Table 3: outcome of charged cases (7 cells incl. `pending`). Uncharged cases are in no cell.
    case dispositions = "dispositions"
    /// Table 4: open cases at the cutoff by age band × status (active / suspended): 10 cells.
    /// Closed and disposed cases are in no cell.
    case backlog = "backlog"
    /// Table 5a: life table of time from report to the first victim update. Cells: time bin ×
    /// (`updated`, `censored`). Every case is in exactly one cell.
    case victimUpdateTime = "victim_update_time"
    /// Table 5b: open cases by whether the victim heard nothing in the 90 days before the cutoff
    /// (`no_update_90d`, `contact_within_90d`). Closed and disposed cases are in no cell.
    case victimUpdateRecency = "victim_update_recency"
    /// Table 6: time from report to charge at the headline horizons, directly: cases by the band
    /// of days to their first decision when it is a charge (0–89, 90–179, 180–364, 365–729), or
    /// `not_by_730` (not charged by day 730 or not by the cutoff, or closed first). Every case is in
    /// exactly one cell. "Charged within h days" is a sum of at most four cells over the cohort's
    /// total of five, read only where every case of the cohort has been followed h days: far less
    /// noise than the life table's curve, whose point at day h sums about h/30 bins and whose
    /// total sums 75 cells (`docs/metrics.md` §2).
    case chargeByHorizon = "charge_by_horizon"

    /// The cell labels within one breakdown group, in storage order.
    public var cellLabels: [String] {
        switch self {
        case .timeToFirstDecision:
            TimeBins.labels.flatMap { b in ["charged", "closed_without_charge", "censored"].map { "\(b)|\($0)" } }
        case .attrition: CaseStage.allCases.map(\.label)
        case .dispositions: ChargedOutcome.allCases.map(\.label)
        case .backlog: BacklogBands.labels.flatMap { b in ["active", "suspended"].map { "\(b)|\($0)" } }
        case .victimUpdateTime: TimeBins.labels.flatMap { b in ["updated", "censored"].map { "\(b)|\($0)" } }
        case .victimUpdateRecency: ["no_update_90d", "contact_within_90d"]
        case .chargeByHorizon: ChargeHorizons.labels
        }
    }

    /// Number of cells per breakdown group.
    public var cellsPerGroup: Int {
        switch self {
        case .timeToFirstDecision: TimeBins.count * 3
        case .attrition: CaseStage.allCases.count
        case .dispositions: ChargedOutcome.allCases.count
        case .backlog: BacklogBands.count * 2
        case .victimUpdateTime: TimeBins.count * 2
        case .victimUpdateRecency: 2
        case .chargeByHorizon: ChargeHorizons.labels.count
        }
    }

    /// Whether the table has a time-bin axis (a life table).
    public var isLifeTable: Bool { self == .timeToFirstDecision || self == .victimUpdateTime }

    /// The columns of a cell label, split on `|`: e.g. `["time_bin", "outcome"]`.
    public var cellColumns: [String] {
        switch self {
        case .timeToFirstDecision: ["time_bin", "outcome"]
        case .attrition: ["furthest_stage"]
        case .dispositions: ["outcome"]
        case .backlog: ["age_band", "status"]
        case .victimUpdateTime: ["time_bin", "outcome"]
        case .victimUpdateRecency: ["contact"]
        case .chargeByHorizon: ["days_to_charge"]
        }
    }

    /// What the table counts, in one sentence (for data dictionaries).
    public var definition: String {
        switch self {
        case .timeToFirstDecision:
            "Cases by the time bin of their first decision (days from first report to the first charge or standing closure without charge) and its kind; cases open at the cutoff without a decision are censored in the bin of their follow-up time (days from report to cutoff)."
        case .attrition: "Cases by the furthest stage reached by the cutoff."
        case .dispositions: "Charged cases by their standing outcome at the cutoff (pending when not yet disposed)."
        case .backlog: "Cases open (active or suspended) at the cutoff by age band (days from first report to cutoff) and status."
        case .victimUpdateTime:
            "Cases by the time bin of the first update given to the victim; cases without an update by the cutoff are censored in the bin of their follow-up time."
        case .victimUpdateRecency:
            "Open cases at the cutoff by whether the victim heard nothing in the last 90 days (the report counts as the first contact)."
        case .chargeByHorizon:
            "Cases by the days from first report to their first decision when it is a charge, in the bands 0-89, 90-179, 180-364 and 365-729; not_by_730 holds cases not charged by day 730 or by the cutoff (including those closed first). Charged within h days is read only where every case of the cohort has been followed h days."
        }
    }

    /// Bits used for the cell code in ``CaseProjection``.
    var bitWidth: Int {
        switch self {
        case .timeToFirstDecision: 7
        case .attrition: 3
        case .dispositions: 3
        case .backlog: 4
        case .victimUpdateTime: 6
        case .victimUpdateRecency: 2
        case .chargeByHorizon: 3
        }
    }

    /// Whether code 0 means "in no cell" (stored codes are then cell + 1).
    var hasNoneCode: Bool {
        switch self {
        case .dispositions, .backlog, .victimUpdateRecency: true
        case .timeToFirstDecision, .attrition, .victimUpdateTime, .chargeByHorizon: false
        }
    }
}

/// The time bins of the life tables: 24 "months" of a 365-day year, then one open-ended bin.
///
/// A month here is one twelfth of a 365-day year with the day boundaries chosen so that the
/// quarter, half-year and year boundaries fall exactly on days 90, 180, 365 and 730, the horizons
/// at which cumulative incidence is reported: within each year the bins are 30, 30, 30, 30, 30, 30,
/// 31, 31, 31, 31, 30, 31 days long. Bin `k` holds times `t` (whole days since the first report)
/// with `edges[k] ≤ t < edges[k + 1]`; the last bin holds `t ≥ 730`.
public enum TimeBins {
    /// Lower edges of the bins in days (25 bins; the last is open-ended).
    public static let edges: [Int] = {
        let year = [0, 30, 60, 90, 120, 150, 180, 211, 242, 273, 304, 334]
        return year + year.map { $0 + 365 } + [730]
    }()

    /// Number of bins (24 monthly bins + the open-ended one).
    public static var count: Int { edges.count }

    /// The horizon in days that ends bin `k` (its upper edge), or nil for the open bin.
    public static func upperEdge(_ k: Int) -> Int? { k + 1 < edges.count ? edges[k + 1] : nil }

    /// Bin labels, inclusive day ranges: `"0-29"`, `"30-59"` …, `"699-729"`, `"730+"`.
    public static let labels: [String] = (0..<edges.count).map { k in
        if let u = upperEdge(k) { "\(edges[k])-\(u - 1)" } else { "\(edges[k])+" }
    }

    /// The bin of a time in days (≥ 0).
    static let lookup: [UInt8] = {
        var table = [UInt8](repeating: 0, count: 731)
        var k = 0
        for t in 0...730 {
            while k + 1 < edges.count && t >= edges[k + 1] { k += 1 }
            table[t] = UInt8(k)
        }
        return table
    }()

    /// The bin holding time `t` (days; negative is treated as 0).
    @inline(__always) static func bin(_ t: Int) -> Int { t >= 730 ? edges.count - 1 : Int(lookup[max(0, t)]) }

    /// Horizons (days) at which the headline cumulative incidences are reported.
    public static let horizons: [Int] = [90, 180, 365, 730]
}

/// The headline horizons of ``TableKind/chargeByHorizon``: 90, 180, 365 and 730 days, the same as
/// ``TimeBins/horizons``. Band k holds first charges at t days with `edges[k] ≤ t < edges[k + 1]`.
public enum ChargeHorizons {
    /// The horizons (days), in order.
    public static let horizons: [Int] = [90, 180, 365, 730]
    /// Cell labels: the four bands, then `not_by_730`.
    public static let labels: [String] = ["0-89", "90-179", "180-364", "365-729", "not_by_730"]
    /// The cell of a case charged (first decision) at `t` days, or of a case not charged (nil).
    @inline(__always) static func cell(_ t: Int?) -> Int {
        guard let t else { return 4 }
        return t < 90 ? 0 : t < 180 ? 1 : t < 365 ? 2 : t < 730 ? 3 : 4
    }
}

/// Backlog age bands (days from first report to the cutoff): 0–90, 91–180, 181–365, 366–730, over 730.
public enum BacklogBands {
    /// Labels in order.
    public static let labels: [String] = ["0-90", "91-180", "181-365", "366-730", "731+"]
    /// Number of bands.
    public static var count: Int { labels.count }
    /// The band of an open case's age in days.
    @inline(__always) static func band(_ age: Int) -> Int {
        age <= 90 ? 0 : age <= 180 ? 1 : age <= 365 ? 2 : age <= 730 ? 3 : 4
    }
}
