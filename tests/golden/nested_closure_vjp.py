def transform_forward_v(v, shift=1.0, a=None, scale=None):
    scale_times_v = scale * v
    tanh_scale = np.tanh(scale_times_v + shift)
    tanh_scale_times_a = tanh_scale * a
    return tanh_scale_times_a, (a, scale, scale_times_v, tanh_scale, v)


def transform_backward_v(saved, btanh_scale_times_a):
    a, scale, scale_times_v, tanh_scale, v = saved
    # return np.tanh(scale * v + shift) * a
    btanh_scale = unbroadcast(btanh_scale_times_a * a, tanh_scale)
    bscale_times_v = unbroadcast((1.0 - tanh_scale * tanh_scale) * btanh_scale, scale_times_v)
    bv = factor_cotangent(bscale_times_v, v, scale)
    return cotangent_like(bv, v),


def nested_closure_vjp_x(x, a, btotal):
    if type(x) is not float:
        require_real(x, 'x', nested_closure)
    if type(a) is not float:
        refuse_complex(a, 'a', nested_closure)
    scale = 2.0 * a
    # return transform(x) + transform(x ** 2, shift=-0.5)
    transform_x, transform_x_saved = transform_forward_v(x, a=a, scale=scale)
    x_pow_two = x ** 2
    transform_x_pow_two, transform_x_pow_two_save = transform_forward_v(x_pow_two, shift=-0.5, a=a, scale=scale)
    value = transform_x + transform_x_pow_two
    if type(btotal) is not float or type(value) is not float:
        btotal = require_cotangent(btotal, value, nested_closure)
    # return transform(x) + transform(x ** 2, shift=-0.5)
    btransform_x = summand_cotangent(btotal, transform_x, transform_x_pow_two, 0)
    btransform_x_pow_two = summand_cotangent(btotal, transform_x, transform_x_pow_two, 1)
    bv_2, = transform_backward_v(transform_x_pow_two_save, btransform_x_pow_two)
    bx = unbroadcast(2.0 * x * bv_2, x)
    bv, = transform_backward_v(transform_x_saved, btransform_x)
    bx = add_cotangents(bx, bv)
    return value, cotangent_like(bx, x)
