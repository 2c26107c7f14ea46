import PlazoModel

/// The furthest stage of the attrition funnel a case reached by the cutoff (issue 5, table 2).
///
/// Stages are ordered; a case is at the highest stage any of its (retained) events shows, even
/// when an intermediate stage has no event: a charge without an `investigation_opened` record
/// is still a charge. Counting "cases at stage k or beyond" from this histogram therefore gives
/// a funnel that is monotone by construction.
public enum CaseStage: UInt8, CaseIterable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// A report was received (every case in a cohort is at least here).
    case reported = 0
    /// Referred to another agency.
    case referred = 1
    /// A formal investigation was opened.
    case investigation = 2
    /// A suspect was identified.
    case suspectIdentified = 3
    /// A charge was filed (or is implied by a disposition, see ``CaseAnomaly/dispositionWithoutCharge``).
    case charged = 4
    /// The standing disposition is a conviction (by plea or at trial).
    case convicted = 5

    /// Stable machine label.
    public var label: String {
        switch self {
        case .reported: "reported"
        case .referred: "referred"
        case .investigation: "investigation"
        case .suspectIdentified: "suspect_identified"
        case .charged: "charged"
        case .convicted: "convicted"
        }
    }

    /// The machine label.
    public var description: String { label }
    /// Funnel order.
    public static func < (a: CaseStage, b: CaseStage) -> Bool { a.rawValue < b.rawValue }
}

/// Where a case stands at the cutoff.
public enum CaseStatus: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// Open and not suspended.
    case active = 0
    /// Open but suspended (e.g. temporary archive). Not terminal: shown apart in the backlog.
    case suspended = 1
    /// Closed without a charge and not reopened.
    case closed = 2
    /// Disposed by a court or alternative resolution.
    case disposed = 3

    /// Active or suspended: counted in the backlog and censored in time-to-event tables.
    public var isOpen: Bool { self == .active || self == .suspended }

    /// Stable machine label.
    public var label: String {
        switch self {
        case .active: "active"
        case .suspended: "suspended"
        case .closed: "closed"
        case .disposed: "disposed"
        }
    }

    /// The machine label.
    public var description: String { label }
}

/// The first decision on a case: a charge, or a closure without charge (a competing event).
public struct FirstDecision: Hashable, Sendable, Codable {
    /// Which decision came first.
    public enum Kind: UInt8, Sendable, Codable {
        /// A charge was filed (or implied by a disposition).
        case charge = 0
        /// The case was closed without a charge, and that closure still stands at the cutoff.
        case closure = 1
    }

    /// Charge or closure.
    public var kind: Kind
    /// The (effective) day of the decision.
    public var day: Day

    /// Builds a decision.
    public init(kind: Kind, day: Day) {
        self.kind = kind
        self.day = day
    }
}

/// The outcome of a charged case at the cutoff (issue 5, table 3).
public enum ChargedOutcome: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// Charged and not yet disposed.
    case pending = 0
    /// Convicted on a guilty plea (including abbreviated procedure).
    case convictionByPlea = 1
    /// Convicted at trial.
    case convictionAtTrial = 2
    /// Acquitted.
    case acquittal = 3
    /// Charges dismissed.
    case dismissal = 4
    /// Diverted or resolved by an alternative mechanism.
    case diversion = 5
    /// Disposition `other`, or `unknown` (a disposition without a recorded outcome).
    case other = 6

    /// Stable machine label.
    public var label: String {
        switch self {
        case .pending: "pending"
        case .convictionByPlea: "conviction_by_plea"
        case .convictionAtTrial: "conviction_at_trial"
        case .acquittal: "acquittal"
        case .dismissal: "dismissal"
        case .diversion: "diversion"
        case .other: "other"
        }
    }

    /// The machine label.
    public var description: String { label }
}

/// A data-quality finding about a case, made when the case is evaluated (never at ingest: every
/// vocabulary-valid event is accepted, because the log is the truth and events may arrive in any
/// order). See `docs/case-state.md` for each interpretation.
public enum CaseAnomaly: UInt8, CaseIterable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The case has retained events on or before the cutoff but no `report_received`: it is in no
    /// cohort yet. Attributed to the submitter of the case's earliest event.
    case noReport = 0
    /// A non-charge event dated before the first report; it is read as happening on the report day.
    case eventBeforeReport = 1
    /// A charge dated before the first report; it is read as filed on the report day.
    case chargeBeforeReport = 2
    /// A disposition with no charge on or before it; the disposition implies a charge on its day.
    case dispositionWithoutCharge = 3
    /// A reopening of a case that was neither suspended nor closed; it is ignored.
    case reopenWithoutClosure = 4
    /// A charge or disposition on a case that stood closed without charge; it reopens the case
    /// implicitly (the closure no longer stands).
    case activityAfterClosure = 5
    /// A suspension, closure, reopening or charge after the case was disposed; it is ignored for
    /// the status (a disposition is terminal).
    case eventAfterDisposition = 6
    /// A later report gives a known attribute a different known value than the chosen report;
    /// the chosen report's value is kept.
    case conflictingReportAttributes = 7
    /// A void (dated on or before the cutoff) that matches no stored event of its case.
    case unmatchedVoid = 8

    /// Stable machine-readable code, for data-quality reports.
    public var code: String {
        switch self {
        case .noReport: "no_report"
        case .eventBeforeReport: "event_before_report"
        case .chargeBeforeReport: "charge_before_report"
        case .dispositionWithoutCharge: "disposition_without_charge"
        case .reopenWithoutClosure: "reopen_without_closure"
        case .activityAfterClosure: "activity_after_closure"
        case .eventAfterDisposition: "event_after_disposition"
        case .conflictingReportAttributes: "conflicting_report_attributes"
        case .unmatchedVoid: "unmatched_void"
        }
    }

    /// The machine code.
    public var description: String { code }
    /// Code order.
    public static func < (a: CaseAnomaly, b: CaseAnomaly) -> Bool { a.rawValue < b.rawValue }
}

/// A set of ``CaseAnomaly`` kinds, one bit each.
public struct CaseAnomalySet: OptionSet, Hashable, Sendable, Codable {
    /// One bit per ``CaseAnomaly/rawValue``.
    public let rawValue: UInt16
    /// Builds a set from its bits.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// The set holding one kind.
    public init(_ kind: CaseAnomaly) { self.rawValue = 1 << UInt16(kind.rawValue) }
    /// Whether `kind` is in the set.
    public func contains(_ kind: CaseAnomaly) -> Bool { rawValue & (1 << UInt16(kind.rawValue)) != 0 }
    /// The kinds in the set, in code order.
    public var kinds: [CaseAnomaly] { CaseAnomaly.allCases.filter { contains($0) } }
}

/// One anomaly of one case, attributed to the agency that submitted the offending event (the
/// smallest ``AgencyID`` among its submitters).
public struct AttributedAnomaly: Hashable, Comparable, Sendable, Codable {
    /// What is wrong.
    public var kind: CaseAnomaly
    /// Who submitted the offending event.
    public var agency: AgencyID

    /// Builds an attribution.
    public init(kind: CaseAnomaly, agency: AgencyID) {
        self.kind = kind
        self.agency = agency
    }

    /// By kind, then agency.
    public static func < (a: AttributedAnomaly, b: AttributedAnomaly) -> Bool {
        (a.kind.rawValue, a.agency.rawValue) < (b.kind.rawValue, b.agency.rawValue)
    }
}

/// What the release engine needs to know about one case as of a cutoff: one value per case,
/// so that every table can count each case exactly once.
///
/// Every day in a summary is an *effective* day: never before ``firstReportDay`` (events dated
/// before the report are read as happening on the report day, and flagged) and never after
/// ``cutoff``. All fields are a deterministic function of the case's set of events and the cutoff.
public struct CaseSummary: Hashable, Sendable, Codable {
    /// The day the case was evaluated as of (events after it are ignored).
    public var cutoff: Day
    /// The earliest retained `report_received` day: the case's time origin.
    public var firstReportDay: Day
    /// The case's attributes (see `docs/case-state.md`: the earliest report, unknown fields filled
    /// from later reports in order).
    public var attributes: CaseAttributes
    /// The agency type that recorded the chosen (earliest) report.
    public var reportingAgencyType: AgencyType
    /// The first referral's day.
    public var firstReferralDay: Day?
    /// The agency type the first referral went to (its detail code).
    public var referredTo: AgencyType?
    /// Number of distinct retained referral events.
    public var referralCount: Int
    /// The first `investigation_opened` day.
    public var investigationDay: Day?
    /// The first `suspect_identified` day.
    public var suspectIdentifiedDay: Day?
    /// The first charge's day, or the day of a disposition that implies it.
    public var chargeDay: Day?
    /// The standing disposition (the latest one; a later ruling supersedes an earlier one).
    public var disposition: Disposition?
    /// The day of the standing disposition.
    public var dispositionDay: Day?
    /// Status at the cutoff.
    public var status: CaseStatus
    /// When ``status`` is `.closed`: the day the standing closure began.
    public var closureDay: Day?
    /// When ``status`` is `.closed`: the reason of the standing closure.
    public var closureReason: ClosureReason?
    /// How many times the case entered suspension.
    public var suspensionCount: Int
    /// Days spent suspended up to the cutoff (an ongoing suspension counts up to the cutoff).
    public var daysSuspended: Int
    /// How many times the case was reopened (explicit `reopened` events that took effect).
    public var reopenCount: Int
    /// The first victim update's day.
    public var firstUpdateDay: Day?
    /// The last victim update's day on or before the cutoff.
    public var lastUpdateDay: Day?
    /// The anomaly kinds found in this case.
    public var anomalies: CaseAnomalySet

    /// The cohort: the quarter of the first report.
    public var cohort: Quarter { firstReportDay.quarter }

    /// Whether the case is open (active or suspended) at the cutoff.
    public var isOpen: Bool { status.isOpen }

    /// For an open case, days from the first report to the cutoff (the backlog age); nil otherwise.
    public var openAgeDays: Int? { isOpen ? firstReportDay.days(to: cutoff) : nil }

    /// The furthest stage reached by the cutoff.
    public var furthestStage: CaseStage {
        if let d = disposition, d == .convictionByPlea || d == .convictionAtTrial { return .convicted }
        if chargeDay != nil { return .charged }
        if suspectIdentifiedDay != nil { return .suspectIdentified }
        if investigationDay != nil { return .investigation }
        if firstReferralDay != nil { return .referred }
        return .reported
    }

    /// The first decision: the first charge, or the standing closure without charge, whichever
    /// came first (a charge wins a tie). A closure that was later reversed (by a reopening, or
    /// implicitly by a charge) is not a decision. Nil for a case with neither: censored at the
    /// cutoff if open.
    public var firstDecision: FirstDecision? {
        switch (chargeDay, status == .closed ? closureDay : nil) {
        case let (charge?, closure?): charge <= closure ? FirstDecision(kind: .charge, day: charge) : FirstDecision(kind: .closure, day: closure)
        case let (charge?, nil): FirstDecision(kind: .charge, day: charge)
        case let (nil, closure?): FirstDecision(kind: .closure, day: closure)
        case (nil, nil): nil
        }
    }

    /// Days from the first report to the first decision (nil when there is none).
    public var daysToFirstDecision: Int? { firstDecision.map { firstReportDay.days(to: $0.day) } }

    /// For a charged case, its outcome at the cutoff; nil when the case was never charged.
    public var chargedOutcome: ChargedOutcome? {
        guard chargeDay != nil else { return nil }
        guard let d = disposition else { return .pending }
        switch d {
        case .convictionByPlea: return .convictionByPlea
        case .convictionAtTrial: return .convictionAtTrial
        case .acquittal: return .acquittal
        case .dismissal: return .dismissal
        case .diversion: return .diversion
        case .other, .unknown: return .other
        }
    }

    /// Days from the first report to the first victim update (nil when none by the cutoff).
    public var daysToFirstUpdate: Int? { firstUpdateDay.map { firstReportDay.days(to: $0) } }

    /// Days from the last contact (the last victim update, or the report itself when there was
    /// none) to the cutoff.
    public var daysSinceLastContact: Int { (lastUpdateDay ?? firstReportDay).days(to: cutoff) }

    /// Whether the case is open and the victim heard nothing in the 90 days before the cutoff.
    ///
    /// The report counts as the first contact: a case reported less than 90 days before the
    /// cutoff is never "without update" — otherwise the share would be driven by how many cases
    /// are new, not by how agencies keep victims informed.
    public var noUpdateInLast90Days: Bool { isOpen && daysSinceLastContact >= 90 }

    /// Builds a summary field by field (the evaluator does this; tests may too).
    public init(
        cutoff: Day, firstReportDay: Day, attributes: CaseAttributes, reportingAgencyType: AgencyType,
        firstReferralDay: Day? = nil, referredTo: AgencyType? = nil, referralCount: Int = 0,
        investigationDay: Day? = nil, suspectIdentifiedDay: Day? = nil, chargeDay: Day? = nil,
        disposition: Disposition? = nil, dispositionDay: Day? = nil, status: CaseStatus = .active,
        closureDay: Day? = nil, closureReason: ClosureReason? = nil, suspensionCount: Int = 0,
        daysSuspended: Int = 0, reopenCount: Int = 0, firstUpdateDay: Day? = nil, lastUpdateDay: Day? = nil,
        anomalies: CaseAnomalySet = []
    ) {
        self.cutoff = cutoff
        self.firstReportDay = firstReportDay
        self.attributes = attributes
        self.reportingAgencyType = reportingAgencyType
        self.firstReferralDay = firstReferralDay
        self.referredTo = referredTo
        self.referralCount = referralCount
        self.investigationDay = investigationDay
        self.suspectIdentifiedDay = suspectIdentifiedDay
        self.chargeDay = chargeDay
        self.disposition = disposition
        self.dispositionDay = dispositionDay
        self.status = status
        self.closureDay = closureDay
        self.closureReason = closureReason
        self.suspensionCount = suspensionCount
        self.daysSuspended = daysSuspended
        self.reopenCount = reopenCount
        self.firstUpdateDay = firstUpdateDay
        self.lastUpdateDay = lastUpdateDay
        self.anomalies = anomalies
    }
}

/// The result of evaluating one case as of a cutoff.
public struct CaseEvaluation: Hashable, Sendable {
    /// The summary, or nil when the case has no retained `report_received` on or before the
    /// cutoff (it belongs to no cohort yet; see ``CaseAnomaly/noReport``).
    public var summary: CaseSummary?
    /// Every anomaly found, attributed, sorted by kind then agency.
    public var anomalies: [AttributedAnomaly]

    /// Builds an evaluation.
    public init(summary: CaseSummary?, anomalies: [AttributedAnomaly]) {
        self.summary = summary
        self.anomalies = anomalies
    }
}
