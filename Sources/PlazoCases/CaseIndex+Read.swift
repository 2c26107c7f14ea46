import PlazoModel

extension CaseIndex {
    // MARK: Read

    /// Decodes case `c` into `scratch` (emptied first) for the evaluator.
    func load(case c: Int, into scratch: inout [EvalEvent]) {
        records.withUnsafeBufferPointer { records in
            words.withUnsafeBufferPointer { words in
                agencyIDs.withUnsafeBufferPointer { agencies in
                    Self.load(case: c, records: records, words: words, agencies: agencies, into: &scratch)
                }
            }
        }
    }

    func caseNumber(of pseudonym: CasePseudonym) -> Int? { find(pseudonym.low, pseudonym.high).caseNumber }

    /// Whether any event of the case is stored.
    public func contains(_ pseudonym: CasePseudonym) -> Bool { caseNumber(of: pseudonym) != nil }

    /// Evaluates one case as of `cutoff`; nil when no event of the case is stored.
    public func evaluation(of pseudonym: CasePseudonym, asOf cutoff: Day) -> CaseEvaluation? {
        guard let c = caseNumber(of: pseudonym) else { return nil }
        var scratch: [EvalEvent] = []
        load(case: c, into: &scratch)
        var anomalies: [AttributedAnomaly] = []
        let summary = scratch.withUnsafeMutableBufferPointer { b in
            CaseEvaluator.evaluate(b, asOf: cutoff) { anomalies.append(AttributedAnomaly(kind: $0, agency: $1)) }
        }
        anomalies.sort()
        return CaseEvaluation(summary: summary, anomalies: anomalies)
    }

    /// Calls `body` with the summary of every case that has a report on or before `cutoff`, in
    /// an unspecified order (aggregate over them; do not rely on the order). Reuses one scratch
    /// buffer: no allocation per case.
    public func forEachSummary(asOf cutoff: Day, _ body: (CaseSummary) throws -> Void) rethrows {
        try forEachSummary(asOf: cutoff, part: 0, of: 1, body)
    }

    /// Like ``forEachSummary(asOf:_:)``, for the cases of part `part` (0-based) of `parts` about
    /// equal parts of the index. The parts are disjoint and together hold every case, so parts can
    /// be evaluated on several threads at once (an index is a value: reading it concurrently is safe).
    public func forEachSummary(asOf cutoff: Day, part: Int, of parts: Int, _ body: (CaseSummary) throws -> Void) rethrows {
        try forEachNumberedSummary(asOf: cutoff, part: part, of: parts) { _, summary in try body(summary) }
    }

    /// Like ``forEachSummary(asOf:part:of:_:)``, with each case's number (its position in the
    /// index: internal, used to read and set its pin).
    func forEachNumberedSummary(asOf cutoff: Day, part: Int, of parts: Int, _ body: (Int, CaseSummary) throws -> Void) rethrows {
        precondition(parts >= 1 && (0..<parts).contains(part), "part \(part) of \(parts)")
        // One scratch buffer for the whole loop, large enough for any case (an event takes at
        // least one word), written without an array's per-append uniqueness and capacity checks.
        let scratch = UnsafeMutableBufferPointer<EvalEvent>.allocate(capacity: CaseIndex.maxWordsPerCase)
        defer { scratch.deallocate() }
        // Raw buffers for the loop: reading the arrays through `self` retains and releases their
        // shared buffers, and those atomic reference counts, hit by two threads evaluating two
        // parts, made the parallel projection no faster than one thread (measured).
        try records.withUnsafeBufferPointer { records in
            try words.withUnsafeBufferPointer { words in
                try agencyIDs.withUnsafeBufferPointer { agencies in
                    for c in (records.count * part / parts)..<(records.count * (part + 1) / parts) {
                        var n = 0
                        Self.forEachEventWord(case: c, records: records, words: words) { j in
                            precondition(n < scratch.count, "a case holds more events than maxWordsPerCase")
                            (scratch.baseAddress! + n).initialize(to: Self.evalEvent(at: j, words: words, agencies: agencies))
                            n += 1
                        }
                        let summary = CaseEvaluator.evaluate(UnsafeMutableBufferPointer(rebasing: scratch[0..<n]), asOf: cutoff) { _, _ in }
                        if let summary { try body(c, summary) }
                    }
                }
            }
        }
    }

    /// Decodes case `c` into `scratch` over raw buffers (see ``forEachSummary(asOf:part:of:_:)``).
    static func load(
        case c: Int, records: UnsafeBufferPointer<CaseRecord>, words: UnsafeBufferPointer<UInt64>,
        agencies: UnsafeBufferPointer<AgencyID>, into scratch: inout [EvalEvent]
    ) {
        scratch.removeAll(keepingCapacity: true)
        forEachEventWord(case: c, records: records, words: words) { j in
            scratch.append(evalEvent(at: j, words: words, agencies: agencies))
        }
    }

    /// The evaluator's view of the event word at arena position `j` (a void's target follows it).
    @inline(__always)
    static func evalEvent(at j: Int, words: UnsafeBufferPointer<UInt64>, agencies: UnsafeBufferPointer<AgencyID>) -> EvalEvent {
        let w = words[j]
        let isVoid = w & 0xF == PackedEvent.voidCode
        return EvalEvent(
            word: w & PackedEvent.contentMask, target: isVoid ? words[j + 1] : 0, agency: agencies[Int(w >> PackedEvent.agencyShift)]
        )
    }

    /// The summaries of every case with a report on or before `cutoff`, in an unspecified order.
    public func summaries(asOf cutoff: Day) -> [CaseSummary] {
        var out: [CaseSummary] = []
        out.reserveCapacity(records.count)
        forEachSummary(asOf: cutoff) { out.append($0) }
        return out
    }

    /// Anomalies of every case as of `cutoff`, counted per attributed agency and kind.
    public func anomalyCounts(asOf cutoff: Day) -> AnomalyCounts {
        var counts = AnomalyCounts()
        var scratch: [EvalEvent] = []
        for c in 0..<records.count {
            load(case: c, into: &scratch)
            _ = scratch.withUnsafeMutableBufferPointer { b in
                CaseEvaluator.evaluate(b, asOf: cutoff) { counts.add($0, agency: $1) }
            }
        }
        return counts
    }

    /// The distinct stored events of a case with their attributed agency, in a canonical order
    /// (by packed content): nil when the case is unknown. For storage and audits; never log it.
    public func events(of pseudonym: CasePseudonym) -> [(event: CaseEvent, agency: AgencyID)]? {
        guard let c = caseNumber(of: pseudonym) else { return nil }
        return storedEvents(case: c)
    }

    func storedEvents(case c: Int) -> [(event: CaseEvent, agency: AgencyID)] {
        var scratch: [EvalEvent] = []
        load(case: c, into: &scratch)
        scratch.sort { ($0.word, $0.target) < ($1.word, $1.target) }
        let pseudonym = CasePseudonym(low: records[c].low, high: records[c].high)
        return scratch.map { (PackedEvent(word: $0.word, target: $0.target).event(pseudonym: pseudonym), $0.agency) }
    }

    /// Calls `body` with every case's pseudonym and distinct events (see ``events(of:)``), in an
    /// unspecified order.
    public func forEachCase(_ body: (CasePseudonym, [(event: CaseEvent, agency: AgencyID)]) throws -> Void) rethrows {
        for c in 0..<records.count {
            try body(CasePseudonym(low: records[c].low, high: records[c].high), storedEvents(case: c))
        }
    }
}
