// PlazoStore
