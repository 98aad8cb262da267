def rpow_jvp_x(x, n, dx):
    if type(x) is not float or type(dx) is not float:
        require_real(x, 'x', rpow, dx)
    if type(n) is not float:
        refuse_complex(n, 'n', rpow)
    if n == 0:
        return 1.0, 0.0
    # half = rpow(x, n // 2)
    n_floordiv_two = n // 2
    half, dhalf = rpow_jvp_x(x, n_floordiv_two, dx=dx)
    if n % 2 == 0:
        # return half * half
        half_times_half = half * half
        dhalf_times_half = dhalf * half + half * dhalf
        return half_times_half, dhalf_times_half
    # return half * half * x
    half_times_half_2 = half * half
    half_times_half_times_x = half_times_half_2 * x
    dhalf_times_half_times_x = (dhalf * half + half * dhalf) * x + half_times_half_2 * dx
    return half_times_half_times_x, dhalf_times_half_times_x
