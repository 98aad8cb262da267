def nested_closure_jvp_x(x, a, dx):
    if type(x) is not float or type(dx) is not float:
        require_real(x, 'x', nested_closure, dx)
    if type(a) is not float:
        refuse_complex(a, 'a', nested_closure)
    scale = 2.0 * a

    def transform_jvp_v(v, shift=1.0, *, dv):
        # return np.tanh(scale * v + shift) * a
        scale_times_v_plus_shift = scale * v + shift
        tanh_scale = np.tanh(scale_times_v_plus_shift)
        tanh_scale_times_a = tanh_scale * a
        dtanh_scale_times_a = (1.0 - tanh_scale * tanh_scale) * broadcast_like(scale * dv, scale_times_v_plus_shift) * a
        return tanh_scale_times_a, dtanh_scale_times_a
    # return transform(x) + transform(x ** 2, shift=-0.5)
    transform_x, dtransform_x = transform_jvp_v(x, dv=dx)
    x_pow_two = x ** 2
    dx_pow_two = 2.0 * x * dx
    transform_x_pow_two, dtransform_x_pow_two = transform_jvp_v(x_pow_two, shift=-0.5, dv=dx_pow_two)
    total = transform_x + transform_x_pow_two
    dtotal = dtransform_x + dtransform_x_pow_two
    return total, dtotal
