import Foundation
@testable import PlazoAgency

extension StarterCorpus {
    /// Two more layouts, written after the starter's word lists were frozen and measured before
    /// any change to them: 48/72 entries right (66.7 %), with three real columns dropped
    /// (`Resolución`, `Referred To`, `Content Type`). That measurement led to general changes
    /// (English header words, no drop while some values read as labels, small words ignored in
    /// values, spellings found inside a value), after which they are no longer held out; they stay
    /// as a regression check. The first figure is the better guess of the starter on an export
    /// nobody has seen.
    static let heldOut = [prosecutorNuevoLeon, hotlineEnglish]

    /// A state prosecutor (Nuevo León style): `NUC` numbers, headers with spaces and accents,
    /// `Etapa` for the event, a data-entry timestamp that is not the event's date, dates written
    /// `D/M/YYYY`, labels in the office's own words.
    static let prosecutorNuevoLeon = CorpusExport(
        name: "fiscalía estatal (Nuevo León, held out)",
        bytes: Array("""
            NUC;Fecha;Etapa;Resolución;Delito;Edad Ofendido;Sexo Ofendido;Estado;Forma de inicio;Municipio;MP Titular;Fecha Captura
            NUC-2025-000311;5/3/2025;Denuncia;;Pornografía infantil (difusión);13;Femenino;NUEVO LEON;Víctima directa;Monterrey;Lic. Garza;05/03/2025 10:12
            NUC-2025-000311;6/3/2025;Inicio de investigación;;;;;NUEVO LEON;;Monterrey;Lic. Garza;06/03/2025 09:01
            NUC-2025-000311;20/4/2025;Se formuló imputación;;;;;NUEVO LEON;;Monterrey;Lic. Garza;20/04/2025 17:40
            NUC-2025-000311;30/5/2025;Sentencia;Procedimiento abreviado;;;;NUEVO LEON;;Monterrey;Lic. Garza;30/05/2025 12:00
            NUC-2025-000312;7/3/2025;Denuncia;;Sextorsion;15;Masculino;Nuevo León;Familiar;San Nicolás;Lic. Treviño;07/03/2025 11:30
            NUC-2025-000312;8/3/2025;Inicio de investigación;;;;;Nuevo León;;San Nicolás;Lic. Treviño;08/03/2025 08:20
            NUC-2025-000312;15/4/2025;Archivo Temporal;;;;;Nuevo León;;San Nicolás;Lic. Treviño;15/04/2025 13:00
            NUC-2025-000312;2/5/2025;Reapertura;;;;;Nuevo León;;San Nicolás;Lic. Treviño;02/05/2025 09:45
            NUC-2025-000313;10/3/2025;Denuncia;;Difusión de imágenes íntimas;16;Femenino;Coahuila;Reporte de plataforma digital;Saltillo;Lic. Garza;10/03/2025 16:05
            NUC-2025-000313;25/4/2025;No Ejercicio de la Acción Penal;Falta de pruebas;;;;Coahuila;;Saltillo;Lic. Garza;25/04/2025 10:00
            NUC-2025-000314;12/3/2025;Denuncia;;Grooming;12;Femenino;NUEVO LEON;Investigación de oficio;Guadalupe;Lic. Treviño;12/03/2025 09:00
            NUC-2025-000314;13/3/2025;Notificación a la víctima;Audiencia;;;;NUEVO LEON;;Guadalupe;Lic. Treviño;13/03/2025 12:10

            """.utf8),
        columns: [
            ("NUC", "case_id"), ("Fecha", "date"), ("Etapa", "event"), ("Resolución", "detail"), ("Delito", "offence_category"),
            ("Edad Ofendido", "victim_age"), ("Sexo Ofendido", "victim_sex"), ("Estado", "state"), ("Forma de inicio", "report_channel"),
            ("Municipio", nil), ("MP Titular", nil), ("Fecha Captura", nil),
        ],
        values: [
            "event": [
                "Denuncia": "report_received", "Inicio de investigación": "investigation_opened", "Se formuló imputación": "charge_filed",
                "Sentencia": "disposed", "Archivo Temporal": "suspended", "Reapertura": "reopened",
                "No Ejercicio de la Acción Penal": "closed_without_charge", "Notificación a la víctima": "victim_informed",
            ],
            "detail": ["Procedimiento abreviado": "conviction_by_plea", "Falta de pruebas": "insufficient_evidence", "Audiencia": "hearing_scheduled"],
            "offence_category": [
                "Pornografía infantil (difusión)": "csam_distribution", "Sextorsion": "sexual_extortion",
                "Difusión de imágenes íntimas": "non_consensual_sharing", "Grooming": "online_grooming",
            ],
            "victim_sex": ["Femenino": "female", "Masculino": "male"],
            "state": ["NUEVO LEON": "19", "Nuevo León": "19", "Coahuila": "05"],
            "report_channel": [
                "Víctima directa": "victim_or_family", "Familiar": "victim_or_family", "Reporte de plataforma digital": "platform_referral",
                "Investigación de oficio": "proactive_investigation",
            ],
        ],
        dateFormat: "D/M/YYYY", delimiter: "semicolon", encoding: nil)

    /// A hotline whose case software is in English: `Report ID`, US dates with a time
    /// (`MM/DD/YYYY HH:MM`), English labels.
    static let hotlineEnglish = CorpusExport(
        name: "hotline in English (held out)",
        bytes: Array("""
            Report ID,Received,Action Taken,Referred To,Content Type,Victim Age Range,Victim Gender,State,Source,Analyst Notes
            HL-MX-88120,03/15/2025 14:20,New report,,CSAM - distribution,13-15,Female,Jalisco,Public report,duplicate of 88011?
            HL-MX-88120,03/16/2025 09:05,Referred,SSPC Policía Cibernética,,,,Jalisco,,
            HL-MX-88121,03/17/2025 18:44,New report,,Sextortion,16-17,Male,Mexico City,ESP report,
            HL-MX-88121,03/18/2025 10:00,Referred,Fiscalía Estatal,,,,Mexico City,,
            HL-MX-88122,03/20/2025 07:30,New report,,Grooming,10-12,Female,Nuevo Leon,NCMEC,
            HL-MX-88122,03/21/2025 11:15,Referred,Fiscalía Estatal,,,,Nuevo Leon,,
            HL-MX-88123,03/22/2025 22:02,New report,,Non-consensual intimate images,unknown,Unknown,Jalisco,Victim,
            HL-MX-88123,03/24/2025 09:00,Closed - not illegal,,,,,Jalisco,,adult content

            """.utf8),
        columns: [
            ("Report ID", "case_id"), ("Received", "date"), ("Action Taken", "event"), ("Referred To", "detail"),
            ("Content Type", "offence_category"), ("Victim Age Range", "victim_age_band"), ("Victim Gender", "victim_sex"),
            ("State", "state"), ("Source", "report_channel"), ("Analyst Notes", nil),
        ],
        values: [
            "event": ["New report": "report_received", "Referred": "referred", "Closed - not illegal": "closed_without_charge"],
            "detail": ["SSPC Policía Cibernética": "police_cyber_unit", "Fiscalía Estatal": "state_prosecutor"],
            "offence_category": [
                "CSAM - distribution": "csam_distribution", "Sextortion": "sexual_extortion", "Grooming": "online_grooming",
                "Non-consensual intimate images": "non_consensual_sharing",
            ],
            "victim_age_band": ["13-15": "13-15", "16-17": "16-17", "10-12": "10-12", "unknown": "unknown"],
            "victim_sex": ["Female": "female", "Male": "male", "Unknown": "unknown"],
            "state": ["Jalisco": "14", "Mexico City": "09", "Nuevo Leon": "19"],
            "report_channel": ["Public report": "third_party", "ESP report": "platform_referral", "NCMEC": "platform_referral", "Victim": "victim_or_family"],
        ],
        dateFormat: "MM/DD/YYYY HH:MM", delimiter: nil, encoding: nil)
}
