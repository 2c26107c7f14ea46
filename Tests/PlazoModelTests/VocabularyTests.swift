import Testing

@testable import PlazoModel

@Suite("Event vocabulary v1")
struct VocabularyTests {
    @Test("codes parse from labels, numbers and loosely written labels, and refuse anything else")
    func parsing() throws {
        #expect(try OffenceCategory.parse("online_grooming") == .onlineGrooming)
        #expect(try OffenceCategory.parse("Online Grooming") == .onlineGrooming)
        #expect(try OffenceCategory.parse("04") == .onlineGrooming)
        #expect(try MexicanState.parse("09").rawValue == 9)
        #expect(try MexicanState.parse("32").rawValue == 32)
        #expect(try MexicanState.parse("unknown") == .unknown)
        #expect(try AgeBand.parse("13-15") == .age13to15)
        #expect(throws: VocabularyError.codeOutOfRange(attribute: "state", value: 33)) { try MexicanState.parse("33") }
        #expect(throws: VocabularyError.codeOutOfRange(attribute: "offence_category", value: 10)) { try OffenceCategory.parse("10") }
        #expect(throws: VocabularyError.unknownLabel(attribute: "event_type", label: "arrested")) { try EventType.parse("arrested") }
        #expect(throws: VocabularyError.self) { try EventType.parse("0") }
    }

    @Test("every code of every attribute has a unique number and label, and unknown is 0 where it exists")
    func codesAreStable() {
        func check<C: VocabularyCode>(_ type: C.Type) {
            let all = Array(C.allCases)
            #expect(Set(all.map(\.rawValue)).count == all.count)
            #expect(Set(all.map(\.label)).count == all.count)
            for c in all { #expect(!c.meaning.isEmpty) }
        }
        check(EventType.self)
        check(SuspensionReason.self)
        check(ClosureReason.self)
        check(Disposition.self)
        check(UpdateKind.self)
        check(OffenceCategory.self)
        check(AgeBand.self)
        check(VictimSex.self)
        check(ReportChannel.self)
        check(AgencyType.self)
        check(MexicanState.self)
        #expect(MexicanState.allCases.count == 33)
        #expect(MexicanState(rawValue: 9)!.meaning == "Ciudad de México")
        #expect(EventType.allCases.map(\.rawValue) == Array(1...11))
    }

    @Test("ages in years become bands; 18 and over, and negative ages, are errors")
    func ageBands() throws {
        #expect(try AgeBand.band(forAge: 0) == .age0to9)
        #expect(try AgeBand.band(forAge: 9) == .age0to9)
        #expect(try AgeBand.band(forAge: 10) == .age10to12)
        #expect(try AgeBand.band(forAge: 15) == .age13to15)
        #expect(try AgeBand.band(forAge: 17) == .age16to17)
        #expect(throws: VocabularyError.self) { try AgeBand.band(forAge: 18) }
        #expect(throws: VocabularyError.self) { try AgeBand.band(forAge: -1) }
    }

    @Test("details are checked against the vocabulary of their event type")
    func details() {
        #expect(EventType.disposed.isValidDetail(Disposition.convictionAtTrial.rawValue))
        #expect(!EventType.disposed.isValidDetail(7))
        #expect(EventType.chargeFiled.isValidDetail(0))
        #expect(!EventType.chargeFiled.isValidDetail(1))
        #expect(EventType.referred.isValidDetail(AgencyType.stateProsecutor.rawValue))
    }

    @Test("the spelled-out detail check agrees with each event type's detail vocabulary, for every byte")
    func detailsAgreeWithVocabulary() {
        for type in EventType.allCases {
            for detail in UInt8.min...UInt8.max {
                let expected = type.detailAttribute.map { $0.init(rawValue: detail) != nil } ?? (detail == 0)
                #expect(type.isValidDetail(detail) == expected, "\(type) detail \(detail)")
            }
        }
    }
}

@Suite("Days and quarters")
struct DayTests {
    @Test("quarterNumber (a table lookup) equals (year − 2000)·4 + quarter − 1 of the civil quarter, for every day")
    func quarterNumberMatchesCivilQuarter() {
        for raw in UInt16.min...UInt16.max {
            let q = Day(rawValue: raw).quarter
            #expect(Day(rawValue: raw).quarterNumber == (q.year - 2000) * 4 + q.quarter - 1)
        }
    }

    @Test("days convert to and from civil dates across leap years and the whole wire range")
    func civilRoundTrip() {
        #expect(Day(year: 2000, month: 1, day: 1)?.rawValue == 0)
        #expect(Day(year: 2000, month: 3, day: 1)?.rawValue == 60)  // 2000 is a leap year
        #expect(Day(year: 2024, month: 2, day: 29) != nil)
        #expect(Day(year: 2023, month: 2, day: 29) == nil)
        #expect(Day(year: 2100, month: 2, day: 29) == nil)
        #expect(Day(year: 1999, month: 12, day: 31) == nil)
        #expect(Day(rawValue: 65535).iso == "2179-06-06")
        for raw in stride(from: 0, through: 65535, by: 97) {
            let day = Day(rawValue: UInt16(raw))
            #expect(Day(iso: day.iso) == day)
        }
    }

    @Test("ISO parsing accepts exactly YYYY-MM-DD")
    func isoParsing() {
        #expect(Day(iso: "2024-03-04")?.iso == "2024-03-04")
        #expect(Day(iso: "2024-3-4") == nil)
        #expect(Day(iso: "2024-31-02") == nil)
        #expect(Day(iso: "04/03/2024") == nil)
        #expect(Day(iso: "2024-03-04T00:00") == nil)
    }

    @Test("Unix seconds map to UTC days, and quarters follow months")
    func unixAndQuarters() {
        #expect(Day(unixSeconds: 946_684_800)?.iso == "2000-01-01")
        #expect(Day(unixSeconds: 946_684_799) == nil)
        #expect(Day(year: 2024, month: 3, day: 31)!.quarter.description == "2024Q1")
        #expect(Day(year: 2024, month: 4, day: 1)!.quarter.description == "2024Q2")
        #expect(Quarter("2024q4")!.next.description == "2025Q1")
        #expect(Quarter("2024Q2")!.lastDay?.iso == "2024-06-30")
        #expect(Quarter("2024Q5") == nil)
    }
}

@Suite("The 32-byte record")
struct EventRecordTests {
    let latest = Day(year: 2030, month: 1, day: 1)!

    func sample() -> CaseEvent {
        CaseEvent(
            pseudonym: CasePseudonym(low: 0x0102030405060708, high: 0x1112131415161718), type: .closedWithoutCharge,
            detail: ClosureReason.childProtectionResponse.rawValue, day: Day(year: 2024, month: 5, day: 6)!,
            attributes: CaseAttributes(offence: .nonConsensualSharing, ageBand: .age13to15, sex: .female, state: MexicanState(rawValue: 19)!, channel: .thirdParty),
            agencyType: .stateProsecutor
        )
    }

    @Test("an event round-trips through its record with the documented byte layout")
    func layout() throws {
        let bytes = EventRecord.encode(sample())
        #expect(bytes.count == 32)
        #expect(Array(bytes[0..<8]) == [8, 7, 6, 5, 4, 3, 2, 1])  // little-endian halves
        #expect(bytes[16] == 8 && bytes[17] == 5)
        #expect(bytes[23] == 19 && bytes[25] == 3)
        #expect(Array(bytes[26..<32]) == [0, 0, 0, 0, 0, 0])
        #expect(try EventRecord.decode(bytes, latestDay: latest) == sample())
    }

    @Test("each out-of-range field yields its own error")
    func badFields() {
        let good = EventRecord.encode(sample())
        func decode(_ mutate: (inout [UInt8]) -> Void) -> EventError? {
            var b = good
            mutate(&b)
            do { _ = try EventRecord.decode(b, latestDay: latest); return nil } catch { return error }
        }
        #expect(decode { $0[16] = 0 } == .invalidEventType(0))
        #expect(decode { $0[16] = 12 } == .invalidEventType(12))
        #expect(decode { $0[17] = 10 } == .invalidDetail(type: .closedWithoutCharge, detail: 10))
        #expect(decode { $0[20] = 10 } == .codeOutOfRange(attribute: "offence_category", value: 10))
        #expect(decode { $0[21] = 5 } == .codeOutOfRange(attribute: "victim_age_band", value: 5))
        #expect(decode { $0[22] = 4 } == .codeOutOfRange(attribute: "victim_sex", value: 4))
        #expect(decode { $0[23] = 33 } == .codeOutOfRange(attribute: "state", value: 33))
        #expect(decode { $0[24] = 6 } == .codeOutOfRange(attribute: "report_channel", value: 6))
        #expect(decode { $0[25] = 9 } == .codeOutOfRange(attribute: "agency_type", value: 9))
        #expect(decode { $0[26] = 1 } == .targetOnNonVoid)
        #expect(decode { $0[31] = 1 } == .reservedNotZero)
        #expect(decode { $0[18] = 0xFF; $0[19] = 0xFF } == .dayInFuture(Day(rawValue: 0xFFFF)))
    }

    @Test("void records must name a non-void target")
    func voids() throws {
        var void = sample()
        void.type = .void
        void.detail = 0
        void.target = EventReference(type: .chargeFiled, detail: 0, day: Day(year: 2024, month: 1, day: 1)!)
        #expect(try EventRecord.decode(EventRecord.encode(void), latestDay: latest) == void)
        var b = EventRecord.encode(void)
        b[26] = 0
        b[27] = 0
        b[28] = 0
        b[29] = 0
        #expect(throws: EventError.voidWithoutTarget) { try EventRecord.decode(b, latestDay: latest) }
        b[26] = EventType.void.rawValue
        #expect(throws: EventError.voidTargetsVoid) { try EventRecord.decode(b, latestDay: latest) }
    }

    @Test("pseudonyms never print their bytes")
    func pseudonymRedaction() {
        let p = CasePseudonym(bytes: [UInt8](repeating: 0xAB, count: 16))!
        #expect(!"\(p)".contains("ab"))
        #expect(p.hex == String(repeating: "ab", count: 16))
    }
}
