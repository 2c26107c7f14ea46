// PlazoAgency
