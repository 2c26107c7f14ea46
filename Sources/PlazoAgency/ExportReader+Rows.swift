import Foundation
import PlazoModel

extension ExportReader {
    /// Parsed code values per column and text: exports repeat a few distinct values millions of
    /// times, and case identifiers come in runs (a case's events are usually together).
    struct ParseCache {
        /// Per column (``ExportColumn`` ordinal): text → code, or −1 for a value that does not parse.
        var codes = [[String: Int16]](repeating: [:], count: ExportColumn.allCases.count)
        /// Per date column (``ExportColumn`` ordinal): text → day, for the texts that read as one
        /// (an export holds a few thousand distinct days; emptied if it ever holds more than
        /// ``maxDays``, so memory stays bounded).
        var days = [[String: Day]](repeating: [:], count: ExportColumn.allCases.count)
        /// Per event type (raw value): detail text → detail code, or −1 for a text that does not parse.
        var details = [[String: Int16]](repeating: [:], count: 256)
        static let maxDays = 100_000
        /// The last case identifier and its pseudonym.
        var lastCaseID = ""
        var lastPseudonym: CasePseudonym?
    }

    /// Every problem of one rejected row, and the case's pseudonym when the row was its report.
    struct RowProblems: Error {
        var errors: [RowError]
        var reportOf: CasePseudonym?
    }

    /// Parses and validates one row, collecting every problem of the row (not only the first).
    func parseRow(
        _ field: (ExportColumn) -> String, line: Int, latestDay: Day, dateFormats: [ExportColumn: DateFormat] = [:],
        cache: inout ParseCache
    ) -> Result<CaseEvent, RowProblems> {
        var problems: [RowError] = []
        func fail(_ column: ExportColumn?, _ code: String, _ message: String, value: String? = nil, suggestion: String? = nil) {
            problems.append(RowError(line: line, column: column?.rawValue, code: code, message: message, value: value, suggestion: suggestion))
        }
        func code<C: VocabularyCode>(_ column: ExportColumn, _ type: C.Type, default value: C) -> C {
            let text = field(column)
            if text.isEmpty { return value }
            let slot = column.ordinal
            if let cached = cache.codes[slot][text], cached >= 0 { return C(rawValue: UInt8(cached))! }
            do throws(VocabularyError) {
                let parsed = try C.parse(text)
                cache.codes[slot][text] = Int16(parsed.rawValue)
                return parsed
            } catch {
                cache.codes[slot][text] = -1
                let reason = if case .ambiguous = error { "ambiguous_code" } else { "invalid_code" }
                fail(column, reason, error.description, value: text, suggestion: C.suggestion(for: text))
                return value
            }
        }
        func day(_ column: ExportColumn) -> Day? {
            let text = field(column)
            if text.isEmpty {
                fail(column, "missing_value", "\(column.rawValue) is empty")
                return nil
            }
            let format = dateFormats[column]
            let slot = column.ordinal
            let known = cache.days[slot][text]
            guard let d = known ?? format.map({ $0.day(text) }) ?? Day(iso: text) else {
                if format == nil, let y = Int(text.prefix(4)), text.count == 10, y < 2000 {
                    fail(column, "date_before_2000", "\(column.rawValue) \(text) is before 2000-01-01", value: text)
                } else {
                    let hint = format == nil && text.contains("/") ? " (give the export's date format in a mapping file: dates: {all: DD/MM/YYYY})" : ""
                    fail(column, "malformed_date",
                         "\(column.rawValue) '\(text.prefix(20))' is not a date in \(format?.pattern ?? "YYYY-MM-DD") form\(hint)", value: text)
                }
                return nil
            }
            if known == nil {
                if cache.days[slot].count >= ParseCache.maxDays { cache.days[slot].removeAll(keepingCapacity: true) }
                cache.days[slot][text] = d
            }
            if d < Day(year: 2000, month: 1, day: 1)! {
                fail(column, "date_before_2000", "\(column.rawValue) \(text) is before 2000-01-01", value: text)
                return nil
            }
            if d > latestDay {
                fail(column, "date_in_future", "\(column.rawValue) \(text) is after tomorrow", value: text)
                return nil
            }
            return d
        }

        let caseText = field(.caseID)
        var pseudonym: CasePseudonym?
        if let last = cache.lastPseudonym, caseText == cache.lastCaseID {
            pseudonym = last
        } else {
            do {
                pseudonym = try pseudonymizer.pseudonym(forCaseID: caseText)
                cache.lastCaseID = caseText
                cache.lastPseudonym = pseudonym
            } catch {
                fail(.caseID, error.code, error.description)
            }
        }
        var type = EventType.reportReceived
        var typeKnown = false
        if field(.event).isEmpty {
            fail(.event, "missing_value", "event is empty")
        } else {
            let before = problems.count
            type = code(.event, EventType.self, default: .reportReceived)
            typeKnown = problems.count == before
        }
        let eventDay = day(.date)

        // Detail: parsed in the vocabulary of the event type.
        var detail: UInt8 = 0
        let detailText = field(.detail)
        if typeKnown, let vocabulary = type.detailAttribute {
            if !detailText.isEmpty {
                let slot = Int(type.rawValue)
                if let cached = cache.details[slot][detailText], cached >= 0 {
                    detail = UInt8(cached)
                } else {
                    do {
                        detail = try vocabulary.parseRaw(detailText)
                        cache.details[slot][detailText] = Int16(detail)
                    } catch {
                        cache.details[slot][detailText] = -1
                        fail(.detail, "invalid_code", error.description, value: detailText, suggestion: vocabulary.suggestion(for: detailText))
                    }
                }
            }
        } else if typeKnown, !detailText.isEmpty, detailText != "0" {
            fail(.detail, "unexpected_detail", "\(type.label.withIndefiniteArticle) event takes no detail", value: detailText)
        }

        // Victim age: a number of years becomes a band here, at the agency. Exports from
        // spreadsheets write whole numbers as "14.0": accepted when the fraction is zero.
        var band = code(.victimAgeBand, AgeBand.self, default: .unknown)
        let ageText = field(.victimAge)
        if !ageText.isEmpty {
            let whole = ageText.hasSuffix(".0") ? String(ageText.dropLast(2)) : ageText
            if let years = Int(whole) {
                if let fromAge = try? AgeBand.band(forAge: years) {
                    if band != .unknown, band != fromAge {
                        fail(.victimAgeBand, "age_band_conflict", "victim_age_band \(band.label) contradicts victim_age \(years)")
                    }
                    band = fromAge
                } else {
                    fail(.victimAge, "age_out_of_range", "victim_age \(years) is outside 0...17", value: ageText)
                }
            } else {
                fail(.victimAge, "malformed_age", "victim_age '\(ageText.prefix(10))' is not a whole number of years", value: ageText)
            }
        }

        let attributes = CaseAttributes(
            offence: code(.offenceCategory, OffenceCategory.self, default: .unknown),
            ageBand: band,
            sex: code(.victimSex, VictimSex.self, default: .unknown),
            state: code(.state, MexicanState.self, default: .unknown),
            channel: code(.reportChannel, ReportChannel.self, default: .unknown)
        )
        let agencyType = code(.agencyType, AgencyType.self, default: defaultAgencyType)

        var target: EventReference?
        let hasTarget = !field(.targetEvent).isEmpty || !field(.targetDate).isEmpty || !field(.targetDetail).isEmpty
        if typeKnown, type == .void {
            if field(.targetEvent).isEmpty {
                fail(.targetEvent, "void_without_target", "a void row must name target_event and target_date")
            } else {
                let before = problems.count
                let targetType = code(.targetEvent, EventType.self, default: .reportReceived)
                var targetDetail: UInt8 = 0
                if problems.count == before, let vocabulary = targetType.detailAttribute, !field(.targetDetail).isEmpty {
                    do { targetDetail = try vocabulary.parseRaw(field(.targetDetail)) } catch {
                        fail(.targetDetail, "invalid_code", error.description, value: field(.targetDetail))
                    }
                }
                if let targetDay = day(.targetDate) {
                    target = EventReference(type: targetType, detail: targetDetail, day: targetDay)
                }
            }
        } else if typeKnown, hasTarget {
            fail(.targetEvent, "target_on_non_void", "only void rows may have target_event, target_detail or target_date")
        }

        let reportOf = typeKnown && type == .reportReceived ? pseudonym : nil
        guard problems.isEmpty, let pseudonym, let eventDay else {
            return .failure(RowProblems(errors: problems, reportOf: reportOf))
        }
        let event = CaseEvent(
            pseudonym: pseudonym, type: type, detail: detail, day: eventDay,
            attributes: attributes, agencyType: agencyType, target: target
        )
        do { try event.validate(latestDay: latestDay) } catch {
            fail(nil, error.code, error.description)
            return .failure(RowProblems(errors: problems, reportOf: reportOf))
        }
        return .success(event)
    }
}

extension VocabularyCode {
    /// Parses a value and returns its raw code (for use through an existential metatype).
    static func parseRaw(_ text: String) throws(VocabularyError) -> UInt8 {
        try parse(text).rawValue
    }
}

extension String {
    /// The label with "a" or "an" before it ("an investigation_opened", "a void").
    var withIndefiniteArticle: String {
        guard let first = first?.lowercased() else { return self }
        return ("aeiou".contains(first) ? "an " : "a ") + self
    }
}

