// PlazoWire
