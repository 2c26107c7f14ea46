// PlazoModel
