import PlazoModel

// `CaseSummary` is Codable so that the store can persist summaries (e.g. as JSON or a property
// list) without a schema of its own. The vocabulary types of PlazoModel are not Codable, so codes
// are written as their stable numbers and days as `Day.rawValue`.
extension CaseSummary {
    private enum CodingKeys: String, CodingKey {
        case cutoff, firstReportDay, offence, ageBand, sex, state, channel, reportingAgencyType
        case firstReferralDay, referredTo, referralCount, investigationDay, suspectIdentifiedDay, chargeDay
        case disposition, dispositionDay, status, closureDay, closureReason, suspensionCount, daysSuspended
        case reopenCount, firstUpdateDay, lastUpdateDay, anomalies
    }

    /// Writes codes as their numbers.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cutoff, forKey: .cutoff)
        try c.encode(firstReportDay, forKey: .firstReportDay)
        try c.encode(attributes.offence.rawValue, forKey: .offence)
        try c.encode(attributes.ageBand.rawValue, forKey: .ageBand)
        try c.encode(attributes.sex.rawValue, forKey: .sex)
        try c.encode(attributes.state.rawValue, forKey: .state)
        try c.encode(attributes.channel.rawValue, forKey: .channel)
        try c.encode(reportingAgencyType.rawValue, forKey: .reportingAgencyType)
        try c.encodeIfPresent(firstReferralDay, forKey: .firstReferralDay)
        try c.encodeIfPresent(referredTo?.rawValue, forKey: .referredTo)
        try c.encode(referralCount, forKey: .referralCount)
        try c.encodeIfPresent(investigationDay, forKey: .investigationDay)
        try c.encodeIfPresent(suspectIdentifiedDay, forKey: .suspectIdentifiedDay)
        try c.encodeIfPresent(chargeDay, forKey: .chargeDay)
        try c.encodeIfPresent(disposition?.rawValue, forKey: .disposition)
        try c.encodeIfPresent(dispositionDay, forKey: .dispositionDay)
        try c.encode(status, forKey: .status)
        try c.encodeIfPresent(closureDay, forKey: .closureDay)
        try c.encodeIfPresent(closureReason?.rawValue, forKey: .closureReason)
        try c.encode(suspensionCount, forKey: .suspensionCount)
        try c.encode(daysSuspended, forKey: .daysSuspended)
        try c.encode(reopenCount, forKey: .reopenCount)
        try c.encodeIfPresent(firstUpdateDay, forKey: .firstUpdateDay)
        try c.encodeIfPresent(lastUpdateDay, forKey: .lastUpdateDay)
        try c.encode(anomalies, forKey: .anomalies)
    }

    /// Reads codes back, rejecting numbers outside the vocabulary.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func code<C: VocabularyCode>(_ key: CodingKeys) throws -> C {
            let raw = try c.decode(UInt8.self, forKey: key)
            guard let value = C(rawValue: raw) else {
                throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "\(raw) is not a valid \(C.attributeName) code")
            }
            return value
        }
        func optionalCode<C: VocabularyCode>(_ key: CodingKeys) throws -> C? {
            try c.contains(key) && !c.decodeNil(forKey: key) ? code(key) as C : nil
        }
        self.init(
            cutoff: try c.decode(Day.self, forKey: .cutoff),
            firstReportDay: try c.decode(Day.self, forKey: .firstReportDay),
            attributes: CaseAttributes(
                offence: try code(.offence), ageBand: try code(.ageBand), sex: try code(.sex),
                state: try code(.state), channel: try code(.channel)
            ),
            reportingAgencyType: try code(.reportingAgencyType),
            firstReferralDay: try c.decodeIfPresent(Day.self, forKey: .firstReferralDay),
            referredTo: try optionalCode(.referredTo),
            referralCount: try c.decode(Int.self, forKey: .referralCount),
            investigationDay: try c.decodeIfPresent(Day.self, forKey: .investigationDay),
            suspectIdentifiedDay: try c.decodeIfPresent(Day.self, forKey: .suspectIdentifiedDay),
            chargeDay: try c.decodeIfPresent(Day.self, forKey: .chargeDay),
            disposition: try optionalCode(.disposition),
            dispositionDay: try c.decodeIfPresent(Day.self, forKey: .dispositionDay),
            status: try c.decode(CaseStatus.self, forKey: .status),
            closureDay: try c.decodeIfPresent(Day.self, forKey: .closureDay),
            closureReason: try optionalCode(.closureReason),
            suspensionCount: try c.decode(Int.self, forKey: .suspensionCount),
            daysSuspended: try c.decode(Int.self, forKey: .daysSuspended),
            reopenCount: try c.decode(Int.self, forKey: .reopenCount),
            firstUpdateDay: try c.decodeIfPresent(Day.self, forKey: .firstUpdateDay),
            lastUpdateDay: try c.decodeIfPresent(Day.self, forKey: .lastUpdateDay),
            anomalies: try c.decode(CaseAnomalySet.self, forKey: .anomalies)
        )
    }
}
