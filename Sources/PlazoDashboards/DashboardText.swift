import Foundation
import PlazoCases
import PlazoModel
import PlazoReleases

/// The language of a dashboard answer: Spanish first (the oversight bodies this serves are
/// Mexican), English on request.
public enum DashboardLanguage: String, CaseIterable, Sendable {
    /// Spanish, the default.
    case es
    /// English.
    case en

    /// The language asked for: `?lang=` wins, then the first `Accept-Language` range naming
    /// Spanish or English (RFC 9110 §12.5.4, q-values honoured), else Spanish.
    public static func negotiate(query: String?, acceptLanguage: String?) -> DashboardLanguage? {
        if let query { return DashboardLanguage(rawValue: query.lowercased()) }
        guard let acceptLanguage else { return .es }
        var best: (DashboardLanguage, Double)?
        for range in acceptLanguage.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased() else { continue }
            let q = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            guard q > 0, let language = DashboardLanguage(rawValue: primary) else { continue }
            if best == nil || q > best!.1 { best = (language, q) }
        }
        return best?.0 ?? .es
    }
}

/// Every word a dashboard answer shows, in Spanish and English: board and series titles, axis
/// and point labels, statuses, the interval's meaning and the dashboard errors. Codes (`09`,
/// `charged`, `online_grooming`) never change with the language; labels do. The vocabulary's
/// labels come from the same tables `plazo vocabulary --lang es` prints (`PlazoModel`).
struct DashboardText: Sendable {
    let lang: DashboardLanguage

    private func pick(_ es: String, _ en: String) -> String { lang == .es ? es : en }

    // MARK: Boards and series

    func title(_ board: DashboardBoard) -> String {
        switch board {
        case .timeToDecision: pick("Tiempo de la denuncia a la primera decisión (imputación o cierre)", "Time from report to first decision (charge or closure)")
        case .timeToCharge: pick("Tiempo de la denuncia a la imputación", "Time from report to charge")
        case .funnel: pick("Desgaste: hasta dónde llegan los casos", "Attrition: how far cases get")
        case .dispositions: pick("Resultados de los casos con imputación", "Outcomes of charged cases")
        case .backlog: pick("Casos abiertos a la fecha de corte", "Open cases at the cutoff")
        case .victimUpdates: pick("Información a las víctimas", "Keeping victims informed")
        }
    }

    func description(_ board: DashboardBoard) -> String {
        switch board {
        case .timeToDecision: pick(
            "Proporción de cada cohorte con imputación, con cierre sin imputación o aún sin decisión, por día desde la denuncia.",
            "Share of each cohort charged, closed without charge, or with no decision yet, by day since the report.")
        case .timeToCharge: pick(
            "Proporción imputada a los 90, 180, 365 y 730 días, y el día en que se imputó al 10 %, 25 % y 50 % de la cohorte. A diferencia del tiempo a la primera decisión, un cierre sin imputación no cuenta: el caso sigue sin imputar.",
            "Share charged by day 90, 180, 365 and 730, and the day by which 10 %, 25 % and 50 % of the cohort had been charged. Unlike time to first decision, a closure without charge does not count: the case stays uncharged.")
        case .funnel: pick("Proporción de la cohorte que llega a cada etapa, y la conversión desde la etapa anterior.", "Share of the cohort reaching each stage, and conversion from the previous stage.")
        case .dispositions: pick("Resultado vigente de los casos con imputación.", "Standing outcome of charged cases.")
        case .backlog: pick("Casos abiertos a la fecha de corte por antigüedad, y la proporción suspendida.", "Open cases at the cutoff by age, and the share suspended.")
        case .victimUpdates: pick(
            "Cuándo se informa por primera vez a la víctima, y cuántos casos abiertos llevan 90 días sin contacto (recomendación 7 de las y los sobrevivientes: mantener informadas a las personas jóvenes).",
            "When the victim is first informed, and how many open cases have had no contact in 90 days (survivors' recommendation 7: keep young people informed).")
        }
    }

    func title(_ metric: DashboardMetric) -> String {
        switch metric {
        case .noDecisionCurve: pick("Aún sin decisión", "No decision yet")
        case .chargeIncidenceCurve: pick("Con imputación", "Charged")
        case .closureIncidenceCurve: pick("Cerrados sin imputación", "Closed without charge")
        case .medianDaysToFirstDecision: pick("Mediana de días a la primera decisión", "Median days to first decision")
        case .funnelShare: pick("Proporción que llega a la etapa", "Share reaching the stage")
        case .stageConversion: pick("Conversión desde la etapa anterior", "Conversion from the previous stage")
        case .dispositionShare: pick("Proporción de los casos con imputación", "Share of charged cases")
        case .backlogByAge: pick("Casos abiertos por antigüedad", "Open cases by age")
        case .suspendedShare: pick("Proporción de casos abiertos suspendidos", "Share of open cases suspended")
        case .updatedByCurve: pick("Víctima informada", "Victim informed")
        case .medianDaysToFirstUpdate: pick("Mediana de días a la primera información a la víctima", "Median days to the first victim update")
        case .noUpdate90dShare: pick("Casos abiertos sin contacto en 90 días", "Open cases with no contact in 90 days")
        case .chargeIncidenceAt: pick("Imputados a los … días", "Charged by day …")
        case .daysToChargedShare: pick("Días hasta imputar a esta proporción de la cohorte", "Days until this share of the cohort was charged")
        case .chargedWithin: pick("Imputados en … días (conteo directo, cohortes con seguimiento completo)", "Charged within … days (counted directly, cohorts followed that long)")
        }
    }

    func unit(_ unit: String) -> String {
        switch unit {
        case "proportion": pick("proporción", "proportion")
        case "days": pick("días", "days")
        case "cases": pick("casos", "cases")
        default: unit
        }
    }

    /// The label of a point's x value on `axis`.
    func label(axis: String, x: String) -> String {
        switch axis {
        case "day": pick("día \(x)", "day \(x)")
        case "share": Double(x).map { "\(Int(($0 * 100).rounded())) %" } ?? x
        case "stage": CaseStage.allCases.first { $0.label == x }.map(stage) ?? x
        case "outcome": ChargedOutcome.allCases.first { $0.label == x }.map(outcome) ?? x
        case "age_band": pick("\(x) días", "\(x) days")
        default: x
        }
    }

    func stage(_ s: CaseStage) -> String {
        switch s {
        case .reported: pick("Denuncia", "Reported")
        case .referred: pick("Canalizado", "Referred")
        case .investigation: pick("Carpeta de investigación", "Investigation")
        case .suspectIdentified: pick("Probable responsable identificado", "Suspect identified")
        case .charged: pick("Imputación", "Charged")
        case .convicted: pick("Condena", "Convicted")
        }
    }

    func outcome(_ o: ChargedOutcome) -> String {
        switch o {
        case .pending: pick("En trámite", "Pending")
        case .convictionByPlea: pick("Condena en procedimiento abreviado", "Conviction by plea")
        case .convictionAtTrial: pick("Condena en juicio oral", "Conviction at trial")
        case .acquittal: pick("Absolución", "Acquittal")
        case .dismissal: pick("Sobreseimiento", "Dismissal")
        case .diversion: pick("Salida alterna", "Diversion")
        case .other: pick("Otro", "Other")
        }
    }

    /// What a point's status means, in one short sentence (nil for `ok`).
    func status(_ status: EstimateStatus, observedUntil: Int?) -> String? {
        switch status {
        case .ok: nil
        case .beyondFollowUp: pick("Más allá del seguimiento: ningún caso se ha observado tanto tiempo.", "Beyond follow-up: no case has been observed that long.")
        case .notReached:
            observedUntil.map { pick("No alcanzado al día \($0).", "Not reached by day \($0).") } ?? pick("No alcanzado.", "Not reached.")
        case .undefined: pick("Sin valor: no hay casos suficientes.", "No value: not enough cases.")
        case .insufficientData:
            pick("Sin datos suficientes: el número de casos detrás de esta proporción podría ser cero, así que no se publica un valor.",
                 "Insufficient data: the number of cases behind this share could be zero, so no value is published.")
        }
    }

    /// The one line that says what an interval means.
    func intervalNote(level: Double) -> String {
        let percent = "\(Int((level * 100).rounded())) %"
        return pick(
            "Cada cifra lleva ruido de privacidad diferencial. El intervalo del \(percent) contiene el valor real en \(percent) de las publicaciones; en gris, las cifras cuyo intervalo es demasiado ancho para leerlas.",
            "Every figure carries differential-privacy noise. The \(percent) interval contains the true value in \(percent) of releases; greyed out are figures whose interval is too wide to read.")
    }

    /// How a breakdown pooled by report year is named in the list of choices.
    func byYear() -> String { pick("por año", "by year") }

    /// Why a series reads by report year (a table pooled by year).
    func pooledByYear() -> String {
        pick(
            "Cifras por año de la denuncia: los cuatro trimestres de cada año se suman, porque un trimestre tiene muy pocos casos por entidad para leerlos con el ruido de privacidad.",
            "Figures by year of the report: the four quarters of each year are pooled, because a quarter holds too few cases per state to read through the privacy noise.")
    }

    func unreliable() -> String {
        pick("Poco fiable: el intervalo es demasiado ancho.", "Unreliable: the interval is too wide.")
    }

    // MARK: Filters

    func dimensionName(_ d: BreakdownDimension) -> String {
        switch d {
        case .state: pick("Entidad federativa", "State")
        case .offence: pick("Delito", "Offence")
        case .ageBand: pick("Edad de la víctima", "Victim age")
        case .channel: pick("Vía de la denuncia", "Report channel")
        case .agencyType: pick("Tipo de institución", "Agency type")
        }
    }

    /// The label of code `code` of `d` (the code itself if it is not one).
    func valueLabel(_ d: BreakdownDimension, _ code: String) -> String {
        guard let i = d.codes.firstIndex(of: code) else { return code }
        return lang == .es ? d.spanishMeanings[i] : d.meanings[i]
    }

    func cohortName() -> String { pick("Cohorte (trimestre de la denuncia)", "Cohort (quarter of the report)") }
    func releaseName() -> String { pick("Publicación", "Release") }

    /// The rule for the default release, as the answers echo it.
    func defaultRule() -> String {
        pick(
            "la publicación más reciente que tiene el desglose pedido (y la cohorte, si se pide)",
            "the latest published release that has the requested breakdown (and cohort, if given)")
    }

    // MARK: Errors (each lists the valid choices)

    func unknownMetric(_ name: String, valid: [String]) -> String {
        pick("no existe el tablero '\(name)'; los tableros son: ", "no dashboard '\(name)'; the dashboards are: ") + valid.joined(separator: ", ")
    }

    func unknownParameter(_ name: String, valid: [String]) -> String {
        pick("parámetro desconocido '\(name)'; los parámetros son: ", "unknown query parameter '\(name)'; the parameters are: ") + valid.joined(separator: ", ")
    }

    func invalidValue(_ value: String, parameter: String, valid: [String]) -> String {
        pick("'\(value)' no es un valor de \(parameter); los valores son: ", "'\(value)' is not a value of \(parameter); the values are: ")
            + valid.joined(separator: ", ")
    }

    func repeated(_ parameter: String) -> String {
        pick("\(parameter) aparece dos veces; para comparar, separe los valores con comas (\(parameter)=09,14)",
             "\(parameter) is given twice; to compare, separate the values with commas (\(parameter)=09,14)")
    }

    func oneComparison(_ a: String, _ b: String) -> String {
        pick("solo un filtro puede tener varios valores; \(a) y \(b) tienen varios", "only one filter may have several values; \(a) and \(b) both do")
    }

    func releaseNotFound(_ id: String, valid: [Int64]) -> String {
        let list = valid.isEmpty ? pick("ninguna", "none") : valid.map(String.init).joined(separator: ", ")
        return pick("no hay publicación \(id) que pueda leer; las publicaciones son: ", "no release \(id) that you may read; the releases are: ") + list
    }

    func noRelease() -> String {
        pick("todavía no hay ninguna publicación que pueda leer", "no release you may read has been published yet")
    }

    func noPublicRelease() -> String {
        pick("ninguna publicación es pública: su lectura requiere un token de supervisión", "no release is public: reading the dashboards needs an oversight token")
    }

    func unanswerable(breakdowns: [String]) -> String {
        pick("ninguna publicación puede responder esta consulta; los desgloses disponibles son: ", "no published release can answer this query; the available breakdowns are: ")
            + (breakdowns.isEmpty ? pick("ninguno", "none") : breakdowns.joined(separator: "; "))
    }

    func notPublic(_ id: Int64) -> String {
        pick("la publicación \(id) no es pública: su lectura requiere un token de supervisión", "release \(id) is not public: reading it needs an oversight token")
    }
}

/// A dashboard (a page of related series), as `/v1/dashboards/{metric}` names it.
public enum DashboardBoard: String, CaseIterable, Sendable {
    /// Time from report to first decision (charge or closure).
    case timeToDecision = "time-to-decision"
    /// Time from report to charge.
    case timeToCharge = "time-to-charge"
    /// Attrition: how far cases get.
    case funnel
    /// Outcomes of charged cases.
    case dispositions
    /// Open cases at the cutoff.
    case backlog
    /// Keeping victims informed.
    case victimUpdates = "victim-updates"

    /// The series it shows, in order.
    public var series: [DashboardMetric] {
        switch self {
        case .timeToDecision: [.noDecisionCurve, .chargeIncidenceCurve, .closureIncidenceCurve, .medianDaysToFirstDecision]
        case .timeToCharge: [.chargeIncidenceAt, .daysToChargedShare, .chargedWithin]
        case .funnel: [.funnelShare, .stageConversion]
        case .dispositions: [.dispositionShare]
        case .backlog: [.backlogByAge, .suspendedShare]
        case .victimUpdates: [.updatedByCurve, .medianDaysToFirstUpdate, .noUpdate90dShare]
        }
    }
}
