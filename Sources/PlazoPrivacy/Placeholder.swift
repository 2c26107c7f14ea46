// PlazoPrivacy
