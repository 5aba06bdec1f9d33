"""The organisation tree: city → district → street → community, departments, the hotline centre."""
