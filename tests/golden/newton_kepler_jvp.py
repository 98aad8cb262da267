def newton_kepler_jvp_M(M, e, dM):
    if type(M) is not float or type(dM) is not float:
        require_real(M, 'M', newton_kepler, dM)
    if type(e) is not float:
        refuse_complex(e, 'e', newton_kepler)
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
        ddifference = dE - e * (np.cos(E) * dE) - dM
        one_minus_e_times_cos_E = 1.0 - e * np.cos(E)
        done_minus_e_times_cos_E = -(e * (-sin_E * dE))
        delta = (E - e * sin_E - M) / one_minus_e_times_cos_E
        ddelta = (ddifference - delta * done_minus_e_times_cos_E) / one_minus_e_times_cos_E
        # E = E - delta
        dE = dE - ddelta
        E = E - delta
        it = it + 1
    return E, dE
