print("plazo")
