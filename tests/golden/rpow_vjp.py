def rpow_forward_x(x, n):
    condition_2 = None
    condition_3 = None
    half = None
    half_saved = None
    half_times_half_2 = None
    returned = False
    result = None
    condition = n == 0
    if condition:
        result = 1.0
        returned = True
    condition_4 = not returned
    if condition_4:
        n_floordiv_two = n // 2
        half, half_saved = rpow_forward_x(x, n_floordiv_two)
        condition_2 = n % 2 == 0
        if condition_2:
            result = half * half
            returned = True
        condition_3 = not returned
        if condition_3:
            half_times_half_2 = half * half
            result = half_times_half_2 * x
            returned = True
    return result, (condition, condition_2, condition_3, condition_4, half, half_saved, half_times_half_2, x)


def rpow_backward_x(saved, bvalue):
    condition, condition_2, condition_3, condition_4, half, half_saved, half_times_half_2, x = saved
    bhalf = 0.0
    bx = 0.0
    bresult = bvalue
    if condition_4:
        if condition_3:
            # return half * half * x
            bhalf_times_half_times_x = bresult
            bresult = 0.0
            bhalf_times_half_2 = unbroadcast(bhalf_times_half_times_x * x, half_times_half_2)
            bx = add_cotangents(bx, unbroadcast(half_times_half_2 * bhalf_times_half_times_x, x))
            bhalf = add_cotangents(bhalf, unbroadcast(bhalf_times_half_2 * half, half))
            bhalf = add_cotangents(bhalf, unbroadcast(half * bhalf_times_half_2, half))
        if condition_2:
            # return half * half
            bhalf_times_half = bresult
            bresult = 0.0
            bhalf = add_cotangents(bhalf, unbroadcast(bhalf_times_half * half, half))
            bhalf = add_cotangents(bhalf, unbroadcast(half * bhalf_times_half, half))
        # half = rpow(x, n // 2)
        bx_2, = rpow_backward_x(half_saved, bhalf)
        bx = add_cotangents(bx, bx_2)
    if condition:
        # return 1.0
        bresult = 0.0
    # if n == 0:
    bresult = 0.0
    return cotangent_like(bx, x),


def rpow_vjp_x(x, n, bvalue):
    if type(x) is not float:
        require_real(x, 'x', rpow)
    if type(n) is not float:
        refuse_complex(n, 'n', rpow)
    # if n == 0:
    returned = False
    result = None
    condition = n == 0
    if condition:
        result = 1.0
        returned = True
    condition_4 = not returned
    if condition_4:
        n_floordiv_two = n // 2
        half, half_saved = rpow_forward_x(x, n_floordiv_two)
        condition_2 = n % 2 == 0
        if condition_2:
            result = half * half
            returned = True
        condition_3 = not returned
        if condition_3:
            half_times_half_2 = half * half
            result = half_times_half_2 * x
            returned = True
    value = result
    if type(bvalue) is not float or type(value) is not float:
        bvalue = require_cotangent(bvalue, value, rpow)
    bhalf = 0.0
    bx = 0.0
    bresult = bvalue
    if condition_4:
        if condition_3:
            # return half * half * x
            bhalf_times_half_times_x = bresult
            bresult = 0.0
            bhalf_times_half_2 = unbroadcast(bhalf_times_half_times_x * x, half_times_half_2)
            bx = add_cotangents(bx, unbroadcast(half_times_half_2 * bhalf_times_half_times_x, x))
            bhalf = add_cotangents(bhalf, unbroadcast(bhalf_times_half_2 * half, half))
            bhalf = add_cotangents(bhalf, unbroadcast(half * bhalf_times_half_2, half))
        if condition_2:
            # return half * half
            bhalf_times_half = bresult
            bresult = 0.0
            bhalf = add_cotangents(bhalf, unbroadcast(bhalf_times_half * half, half))
            bhalf = add_cotangents(bhalf, unbroadcast(half * bhalf_times_half, half))
        # half = rpow(x, n // 2)
        bx_2, = rpow_backward_x(half_saved, bhalf)
        bx = add_cotangents(bx, bx_2)
    if condition:
        # return 1.0
        bresult = 0.0
    # if n == 0:
    bresult = 0.0
    return value, cotangent_like(bx, x)
