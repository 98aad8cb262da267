def newton_kepler_jvp_M(M, e, *, dM):
    # E = M
    E = M
    dE = dM
    # delta = 1.0
    delta = 1.0
    ddelta = 0.0
    it = 0
    while abs(delta) > 1e-12 and it < 50:
        # delta = (E - e * np.sin(E) - M) / (1.0 - e * np.cos(E))
        sin_E = np.sin(E)
        dsin_E = np.cos(E) * dE
        e_times_sin_E = e * sin_E
        de_times_sin_E = e * dsin_E
        E_minus_e_times_sin_E = E - e_times_sin_E
        dE_minus_e_times_sin_E = dE - de_times_sin_E
        difference = E_minus_e_times_sin_E - M
        ddifference = dE_minus_e_times_sin_E - dM
        cos_E = np.cos(E)
        dcos_E = -np.sin(E) * dE
        e_times_cos_E = e * cos_E
        de_times_cos_E = e * dcos_E
        one_minus_e_times_cos_E = 1.0 - e_times_cos_E
        done_minus_e_times_cos_E = -de_times_cos_E
        delta = difference / one_minus_e_times_cos_E
        ddelta = (ddifference - delta * done_minus_e_times_cos_E) / one_minus_e_times_cos_E
        # E = E - delta
        dE = dE - ddelta
        E = E - delta
        it = it + 1
    return E, dE
