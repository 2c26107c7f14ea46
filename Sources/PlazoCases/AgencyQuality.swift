import PlazoModel

/// What one agency's own submissions say about its data and its open cases: the feedback an
/// agency gets on what it sent (`docs/agency-guide.md` §6), and its worklists for the survivors'
/// recommendation 7 (cut the wait from report to prosecution; keep young people informed).
///
/// **Only the agency's own events count.** Each case is evaluated from the events attributed to
/// this agency alone, as if no other agency had sent anything: a case "without a report" is one
/// whose report this agency did not send, and "open" means open by this agency's own records. So
/// nothing in the report depends on another agency's events, and an agency learns nothing about
/// cases it did not send (linkage across agencies is steward-only). It is operational feedback to
/// the holder of the cases, not a publication: see `docs/privacy-model.md` §7.
///
/// An event submitted by several agencies is attributed to the smallest agency id (``AgencyID``);
/// the others' reports then lack it.
public struct AgencyQualityReport: Sendable, Codable, Hashable {
    /// One case on a worklist, by pseudonym (the agency maps it back to its own identifier with
    /// its linkage key and its export: `plazo quality --export`).
    public struct WorkItem: Sendable, Codable, Hashable {
        /// The case pseudonym, 32 hex digits.
        public var pseudonym: String
        /// The first report day, `YYYY-MM-DD`.
        public var reportDay: String
        /// Days from the first report to the cutoff.
        public var daysSinceReport: Int
        /// The last victim update (or nil when the victim was never updated).
        public var lastVictimUpdate: String?
        /// Days since the last contact (update, or the report itself).
        public var daysSinceContact: Int

        enum CodingKeys: String, CodingKey {
            case pseudonym, reportDay = "report_day", daysSinceReport = "days_since_report"
            case lastVictimUpdate = "last_victim_update", daysSinceContact = "days_since_contact"
        }
    }

    /// The agency.
    public var agency: UInt32
    /// The day the cases are evaluated as of.
    public var cutoff: String
    /// Cases with at least one of the agency's events.
    public var cases: Int
    /// The agency's distinct events.
    public var events: Int
    /// Open cases (by the agency's own events).
    public var openCases: Int
    /// Findings by machine code (`unmatched_void`, `no_report`, `conflicting_report_attributes`, …),
    /// computed on the agency's own events; every code is present.
    public var findings: [String: Int]
    /// Records the service rejected when they arrived, by reason (from the agency's receipts:
    /// `day_in_future` for future-dated rows, …). Filled by the service.
    public var rejectedAtIngest: [String: Int]
    /// Open cases whose victim had no update (nor the report) in the 90 days before the cutoff,
    /// longest silence first.
    public var noVictimUpdate90Days: [WorkItem]
    /// Open cases with no first decision (charge or closure), oldest report first.
    public var longestWaitingForDecision: [WorkItem]
    /// How many cases each worklist holds in all (the lists themselves are cut at the limit).
    public var noVictimUpdate90DaysTotal: Int
    public var longestWaitingForDecisionTotal: Int
    /// **Steward view only** (nil in the agency's own report): how many of the agency's cases
    /// other agencies also recorded (linkage). It depends on other agencies' events.
    public var linkedCases: Int?

    enum CodingKeys: String, CodingKey {
        case agency, cutoff, cases, events, findings
        case openCases = "open_cases", rejectedAtIngest = "rejected_at_ingest"
        case noVictimUpdate90Days = "no_victim_update_90_days", longestWaitingForDecision = "longest_waiting_for_decision"
        case noVictimUpdate90DaysTotal = "no_victim_update_90_days_total"
        case longestWaitingForDecisionTotal = "longest_waiting_for_decision_total"
        case linkedCases = "linked_cases"
    }

    /// The report as the agency itself may see it: without anything that depends on other
    /// agencies' events.
    public var forAgency: AgencyQualityReport {
        var copy = self
        copy.linkedCases = nil
        return copy
    }
}

extension CaseIndex {
    /// The quality report and worklists of `agency`, from its own events only, as of `cutoff`.
    /// Each worklist holds at most `limit` cases. O(cases of the index).
    public func qualityReport(agency: AgencyID, asOf cutoff: Day, limit: Int = 500) -> AgencyQualityReport {
        var report = AgencyQualityReport(
            agency: agency.rawValue, cutoff: cutoff.iso, cases: 0, events: 0, openCases: 0,
            findings: Dictionary(uniqueKeysWithValues: CaseAnomaly.allCases.map { ($0.code, 0) }), rejectedAtIngest: [:],
            noVictimUpdate90Days: [], longestWaitingForDecision: [], noVictimUpdate90DaysTotal: 0, longestWaitingForDecisionTotal: 0,
            linkedCases: 0)
        var silent: [AgencyQualityReport.WorkItem] = []
        var waiting: [AgencyQualityReport.WorkItem] = []
        forEachCase { pseudonym, events in
            let own = events.filter { $0.agency == agency }
            guard !own.isEmpty else { return }
            report.cases += 1
            report.events += own.count
            if own.count < events.count { report.linkedCases! += 1 }
            let evaluation = CaseEvaluator.evaluate(own, asOf: cutoff)
            for finding in evaluation.anomalies { report.findings[finding.kind.code, default: 0] += 1 }
            guard let s = evaluation.summary, s.isOpen else { return }
            report.openCases += 1
            let item = AgencyQualityReport.WorkItem(
                pseudonym: pseudonym.hex, reportDay: s.firstReportDay.iso, daysSinceReport: s.firstReportDay.days(to: cutoff),
                lastVictimUpdate: s.lastUpdateDay?.iso, daysSinceContact: s.daysSinceLastContact)
            if s.noUpdateInLast90Days { silent.append(item) }
            if s.firstDecision == nil { waiting.append(item) }
        }
        report.noVictimUpdate90DaysTotal = silent.count
        report.longestWaitingForDecisionTotal = waiting.count
        report.noVictimUpdate90Days = Array(silent.sorted { ($0.daysSinceContact, $1.pseudonym) > ($1.daysSinceContact, $0.pseudonym) }.prefix(limit))
        report.longestWaitingForDecision = Array(waiting.sorted { ($0.daysSinceReport, $1.pseudonym) > ($1.daysSinceReport, $0.pseudonym) }.prefix(limit))
        return report
    }
}
