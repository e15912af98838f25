from datetime import date

import pytest

from kiosk.devices.base import InvalidIdNumber
from kiosk.devices.idcard import idnumber


@pytest.mark.parametrize(
    "first17, check",
    [
        ("44030819990110151", "2"),  # id-validator's published sample 440308199901101512
        ("81000019940823002", "1"),  # Hong Kong residence permit sample 810000199408230021
        ("11010519491231002", "X"),
    ],
)
def test_check_digit_matches_published_samples(first17, check):
    assert idnumber.check_digit(first17) == check
    assert idnumber.validate(first17 + check) == first17 + check


def test_lower_case_x_is_accepted_and_normalised():
    assert idnumber.validate("11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize("bad", ["440308199901101513", "4403081999011015", "44030819990110151A", "440308199913011517"])
def test_wrong_numbers_are_refused(bad):
    with pytest.raises(InvalidIdNumber):
        idnumber.validate(bad)


def test_birth_date_sex_and_age():
    n = "11010519491231002X"
    assert idnumber.birth_date(n) == date(1949, 12, 31)
    assert idnumber.sex(n) == "女"
    assert idnumber.sex("440308199901101512") == "男"
    born = idnumber.birth_date(n)
    assert idnumber.age_on(born, date(2026, 12, 30)) == 76
    assert idnumber.age_on(born, date(2026, 12, 31)) == 77


def test_foreign_2017_permit_form():
    assert idnumber.validate_foreign_2017("usa110080101234") == "USA110080101234"
    with pytest.raises(InvalidIdNumber):
        idnumber.validate_foreign_2017("US1110080101234")
