"""A student's data over time: the family's rights to see and correct it (열람·정정, 개인정보 보호법
제35·36조) and its deletion when the law's retention period ends (학생맞춤통합지원법 시행령 제10조⑤).

This feature sits above every feature that holds student data (it imports them to gather a
copy and to erase), and nothing imports it: what it changes elsewhere travels by signal."""
from flask import Blueprint

bp = Blueprint("records", __name__, url_prefix="/records")
