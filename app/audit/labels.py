"""Readable words for the audit trail: a label for every event code the app records, grouped by
feature for the auditor's action filter, and labels for outcomes and object types.

The codes stay the record (search filters, exports and the hash chain use them); the labels are
what a person reads.  tests/audit/test_labels.py fails when a recorded code has no label here."""
from __future__ import annotations

from flask_babel import gettext

from ..i18n import N_

#: feature group -> [(event code, label)], in the order the action filter shows them
GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (N_("사례"), (
        ("case_requested", N_("지원 요청 접수")),
        ("case_request_merged", N_("지원 요청 병합")),
        ("case_viewed", N_("사례 열람")),
        ("case_list_viewed", N_("사례 목록 열람")),
        ("case_start_screening", N_("사례 검토 시작")),
        ("case_select", N_("지원 대상 선정")),
        ("case_not_select", N_("지원 대상 미선정")),
        ("case_start_planning", N_("지원 계획 수립 시작")),
        ("case_start_support", N_("지원 시작")),
        ("case_start_monitoring", N_("점검 단계로 전환")),
        ("case_close", N_("사례 종결")),
        ("case_start_follow_up", N_("사후 관리 시작")),
        ("case_reopen", N_("사례 재개")),
        ("case_withdraw_request", N_("지원 요청 철회")),
        ("case_need_added", N_("지원 영역 추가")),
        ("case_need_resolved", N_("지원 영역 해결")),
        ("case_note_added", N_("사례 기록 추가")),
        ("case_risk_rerated", N_("위기 수준 변경")),
        ("case_satisfaction_recorded", N_("만족도 기록")),
        ("case_escalated", N_("교육지원청에 사례 상향 요청")),
        ("case_escalation_replied", N_("사례 상향 요청 회신")),
        ("plan_action_added", N_("지원 계획 항목 추가")),
        ("plan_action_status", N_("지원 계획 항목 상태 변경")),
        ("consent_recorded", N_("동의 기록")),
        ("consent_withdrawn", N_("동의 철회")),
        ("consent_expired", N_("동의 기간 만료")),
    )),
    (N_("학생"), (
        ("student_created", N_("학생 등록")),
        ("student_updated", N_("학생 정보 수정")),
        ("student_viewed", N_("학생 정보 열람")),
        ("student_list_viewed", N_("학생 목록 열람")),
        ("students_imported", N_("학생 명단 가져오기")),
    )),
    (N_("교육후견인"), (
        ("guardian_registered", N_("교육후견인 등록")),
        ("guardian_updated", N_("교육후견인 정보 수정")),
        ("guardian_viewed", N_("교육후견인 정보 열람")),
        ("guardian_list_viewed", N_("교육후견인 명단 열람")),
        ("guardian_status_changed", N_("교육후견인 상태 변경")),
        ("guardian_reinstated", N_("교육후견인 활동 재개")),
        ("guardian_login_created", N_("교육후견인 계정 발급")),
        ("guardian_suggestions_viewed", N_("교육후견인 추천 열람")),
        ("guardian_batch_viewed", N_("교육후견인 일괄 배정안 열람")),
        ("guardian_assignment_viewed", N_("교육후견인 배정 열람(후견인)")),
        ("record_check_requested", N_("범죄경력 조회 요청")),
        ("record_check_result", N_("범죄경력 조회 결과 기록")),
        ("record_check_expiry_warned", N_("범죄경력 조회 만료 알림")),
        ("training_expiry_warned", N_("교육 이수 만료 알림")),
        ("assignment_proposed", N_("배정 제안")),
        ("assignment_accepted", N_("배정 수락")),
        ("assignment_declined", N_("배정 거절")),
        ("assignment_viewed", N_("배정 열람")),
        ("assignment_suspended", N_("배정 중지")),
        ("assignment_reactivated", N_("배정 재개")),
        ("assignment_end_requested", N_("배정 종료 요청")),
        ("assignment_closed", N_("배정 종료")),
        ("activity_logged", N_("활동 기록")),
        ("concern_raised", N_("우려 사항 보고")),
        ("concern_viewed", N_("우려 사항 열람")),
        ("concern_acknowledged", N_("우려 사항 확인")),
        ("concern_escalated", N_("우려 사항 상향 보고")),
    )),
    (N_("유관기관"), (
        ("referral_overdue_escalated", N_("의뢰 회신 기한 경과 알림")),
        ("agency_registered", N_("유관기관 등록")),
        ("agency_updated", N_("유관기관 정보 수정")),
        ("agencies_imported", N_("유관기관 목록 가져오기")),
        ("agencies_exported", N_("유관기관 목록 내보내기")),
        ("agency_service_added", N_("기관 서비스 추가")),
        ("agency_service_updated", N_("기관 서비스 수정")),
        ("agency_service_confirmed", N_("기관 서비스 정보 확인")),
        ("agency_suggestions_viewed", N_("유관기관 추천 열람")),
        ("referral_created", N_("의뢰서 작성")),
        ("referral_updated", N_("의뢰서 수정")),
        ("referral_sent", N_("의뢰 발송")),
        ("referral_accepted", N_("의뢰 수락")),
        ("referral_declined", N_("의뢰 거절")),
        ("referral_service_started", N_("의뢰 서비스 시작")),
        ("referral_completed", N_("의뢰 서비스 완료")),
        ("referral_failed", N_("의뢰 서비스 중단")),
        ("referral_cancelled", N_("의뢰 취소")),
        ("referral_viewed", N_("의뢰 열람")),
        ("referral_list_viewed", N_("의뢰 목록 열람")),
        ("referral_inbox_viewed", N_("받은 의뢰함 열람")),
        ("referral_service_recorded", N_("서비스 제공 기록")),
        ("referral_items_hidden", N_("의뢰 항목 비공개 처리")),
    )),
    (N_("사례회의"), (
        ("conference_scheduled", N_("사례회의 일정 등록")),
        ("conference_cancelled", N_("사례회의 취소")),
        ("conference_recorded", N_("사례회의 결과 기록")),
        ("conference_amended", N_("사례회의 기록 정정")),
        ("conference_decision", N_("사례회의 결정 기록")),
        ("conference_case_viewed", N_("사례회의 안건 열람")),
        ("conference_minutes_viewed", N_("사례회의 회의록 열람")),
        ("conference_version_viewed", N_("사례회의 이전 기록 열람")),
        ("conference_work_viewed", N_("내 실행 과제·점검 예정 열람")),
        ("conference_action_status", N_("회의 후속 조치 상태 변경")),
        ("conference_reminders_sent", N_("사례회의 알림 발송")),
        ("conference_sharing_stopped", N_("사례회의 공유 중단")),
    )),
    (N_("전학"), (
        ("transfer_sent", N_("전학 이관 보내기")),
        ("transfer_accepted", N_("전학 이관 접수")),
        ("transfer_returned", N_("전학 이관 반송")),
        ("transfer_cancelled", N_("전학 이관 취소")),
        ("transfer_overdue_alerted", N_("전학 이관 회신 기한 경과 알림")),
        ("transfer_viewed", N_("전학 이관 열람")),
        ("transfer_list_viewed", N_("전학 이관 목록 열람")),
        ("transfer_moved", N_("전학으로 학생·사례 학교 변경")),
        ("transfer_review_requested", N_("전학 후 배정·의뢰 검토 요청")),
    )),
    (N_("보존 기간"), (
        ("retention_run", N_("보존 기한 경과 학생 삭제 실행")),
        ("student_retention_removed", N_("보존 기한 경과로 학생 정보 삭제")),
        ("legal_hold_set", N_("보존 연장 설정")),
        ("legal_hold_ended", N_("보존 연장 종료")),
        ("student_left_school_recorded", N_("학업 중단일 기록")),
        ("retention_list_viewed", N_("보존 기한 도래 학생 목록 열람")),
        ("retention_viewed", N_("학생 보존 기간 열람")),
    )),
    (N_("열람·정정 요청"), (
        ("subject_request_recorded", N_("열람·정정 요청 기록")),
        ("subject_request_viewed", N_("열람·정정 요청 열람")),
        ("subject_request_list_viewed", N_("열람·정정 요청 목록 열람")),
        ("subject_request_corrected", N_("정정 요청에 따른 정보 정정")),
        ("subject_request_completed", N_("열람·정정 요청 처리 완료")),
        ("subject_request_partly", N_("열람·정정 요청 일부 처리")),
        ("subject_request_refused", N_("열람·정정 요청 거절")),
        ("subject_copy_viewed", N_("열람 사본 보기(인쇄용)")),
        ("subject_copy_exported", N_("열람 사본 내려받기(JSON)")),
    )),
    (N_("계정·권한"), (
        ("login", N_("로그인")),
        ("login_password_accepted", N_("비밀번호 확인(2단계 인증 전)")),
        ("login_failed", N_("로그인 실패")),
        ("login_locked", N_("로그인 잠금")),
        ("logout", N_("로그아웃")),
        ("session_expired", N_("세션 만료로 로그아웃")),
        ("session_revoked", N_("세션 종료됨")),
        ("sessions_ended", N_("다른 기기 세션 모두 종료")),
        ("password_changed", N_("비밀번호 변경")),
        ("password_change_refused", N_("비밀번호 변경 거부")),
        ("totp_enrolment_started", N_("2단계 인증 등록 시작")),
        ("totp_enabled", N_("2단계 인증 사용")),
        ("totp_disabled", N_("2단계 인증 해제")),
        ("totp_reset", N_("2단계 인증 초기화")),
        ("totp_recovery_codes_renewed", N_("복구 코드 재발급")),
        ("recovery_code_used", N_("복구 코드 사용")),
        ("user_created", N_("사용자 계정 생성")),
        ("user_deactivated", N_("사용자 계정 비활성화")),
        ("user_reactivated", N_("사용자 계정 재활성화")),
        ("admin_users_viewed", N_("사용자 목록 열람")),
        ("admin_user_viewed", N_("사용자 정보 열람")),
        ("grant_changed", N_("권한 변경")),
        ("grant_history_viewed", N_("권한 변경 이력 열람")),
        ("grant_history_exported", N_("권한 변경 이력 내보내기")),
        ("handling_list_viewed", N_("개인정보 취급자 목록 열람")),
        ("handling_viewed", N_("개인정보 취급자 정보 열람")),
        ("clearance_blocked", N_("취급 승인 없어 접근 차단")),
        ("permission_denied", N_("권한 없는 접근")),
        ("organisation_created", N_("기관 등록")),
        ("organisation_updated", N_("기관 정보 수정")),
        ("organisation_deactivated", N_("기관 비활성화")),
        ("key_added", N_("암호 키 추가")),
        ("keys_rotated", N_("암호 키 교체")),
        ("keys_reencrypted", N_("데이터 재암호화")),
        ("key_retired", N_("암호 키 폐기")),
        ("key_retire_failed", N_("암호 키 폐기 실패")),
        ("backup_created", N_("백업 생성")),
    )),
    (N_("접속기록"), (
        ("audit_searched", N_("접속기록 조회")),
        ("audit_subject_looked_up", N_("정보주체 찾기")),
        ("audit_export_started", N_("접속기록 내보내기 시작")),
        ("audit_exported", N_("접속기록 내보내기")),
        ("audit_purged", N_("보존 기간 지난 접속기록 삭제")),
        ("audit_overrides_viewed", N_("동의 예외 의뢰 목록 열람")),
        ("access_review_viewed", N_("접속기록 점검 열람")),
        ("access_review_marked", N_("접속기록 점검 완료 표시")),
        ("access_review_summarised", N_("지난달 접속기록 점검 집계")),
        ("integrity_alarm", N_("데이터 무결성 경보")),
    )),
    (N_("통계"), (
        ("report_viewed", N_("통계 열람")),
        ("report_exported", N_("통계 내려받기")),
        ("report_printed", N_("통계 인쇄")),
        ("guardian_totals_viewed", N_("교육후견인 활동 실적 열람")),
        ("guardian_totals_exported", N_("교육후견인 활동 실적 내보내기")),
    )),
    (N_("기타"), (
        ("home_viewed", N_("첫 화면 열람")),
        ("notification_list_viewed", N_("알림 목록 열람")),
        ("notification_read", N_("알림 확인")),
        ("notifications_read_all", N_("알림 모두 확인")),
        ("mail_outbox_viewed", N_("메일 발송 현황 열람")),
        ("alert_mailed", N_("알림 메일 발송")),
        ("alert_mail_failed", N_("알림 메일 발송 실패")),
        ("mail_preferences_changed", N_("알림 받는 방법 변경")),
        ("mail_address_requested", N_("알림 메일 주소 등록 요청")),
        ("mail_address_verified", N_("알림 메일 주소 확인")),
        ("mail_address_verify_refused", N_("알림 메일 주소 확인 거부")),
        ("mail_address_removed", N_("알림 메일 주소 삭제")),
        ("demo_scale_built", N_("시연용 대량 데이터 생성")),
    )),
)

#: event code -> untranslated Korean label
ACTION_LABELS: dict[str, str] = {code: label for _group, items in GROUPS for code, label in items}

OUTCOME_LABELS: dict[str, str] = {"allowed": N_("허용"), "denied": N_("거부"), "failed": N_("실패")}

#: object types (tables and the few named kinds) -> untranslated label
OBJECT_LABELS: dict[str, str] = {
    "subject_request": N_("열람·정정 요청"),
    "support_case": N_("사례"), "student": N_("학생"), "guardian": N_("교육후견인"),
    "guardian_assignment": N_("배정"), "guardian_activity": N_("활동 기록"), "guardian_concern": N_("우려 사항"),
    "record_check": N_("범죄경력 조회"), "referral": N_("의뢰"), "referral_service_record": N_("서비스 기록"),
    "referral_inbox": N_("받은 의뢰함"), "agency_service": N_("기관 서비스"), "organisation": N_("기관"),
    "district_office": N_("교육지원청"), "conference": N_("사례회의"), "conference_case": N_("사례회의 안건"),
    "conference_action_item": N_("회의 후속 조치"), "case_need": N_("지원 영역"), "case_note": N_("사례 기록"),
    "case_escalation": N_("사례 상향 요청"), "case_satisfaction": N_("만족도"), "plan_action": N_("지원 계획 항목"),
    "consent": N_("동의"), "user": N_("사용자"), "user_account": N_("사용자"), "login": N_("로그인"),
    "grant_change": N_("권한 변경"), "grant_export": N_("권한 변경 이력"), "audit_event": N_("접속기록"),
    "audit_export": N_("접속기록 파일"), "audit_review": N_("접속기록 점검"), "audit_checkpoint": N_("접속기록 삭제 기점"),
    "report": N_("통계"), "guardian_totals": N_("활동 실적"), "home": N_("첫 화면"), "notification": N_("알림"),
    "case_transfer": N_("전학 이관"), "retention_tombstone": N_("삭제된 학생 기록"), "retention": N_("보존 기간"),
    "legal_hold": N_("보존 연장"), "endpoint": N_("화면"), "key": N_("암호 키"), "database": N_("데이터베이스"),
}


def action_label(code: str | None) -> str:
    """The label of an event code in the current language; the code itself when it has none."""
    label = ACTION_LABELS.get(code or "")
    return gettext(label) if label else (code or "")


def outcome_label(code: str | None) -> str:
    label = OUTCOME_LABELS.get(code or "")
    return gettext(label) if label else (code or "")


def object_label(kind: str | None) -> str:
    label = OBJECT_LABELS.get(kind or "")
    return gettext(label) if label else (kind or "")


def grouped_choices(extra: str | None = None) -> dict:
    """WTForms choices with optgroups: {group label: [(code, label), ...]}, "전체" first; a
    submitted code without a label (an old or unknown code) is kept as an option of its own."""
    choices: dict = {"": [("", gettext("전체"))]}
    for group, items in GROUPS:
        choices[gettext(group)] = [(code, gettext(label)) for code, label in items]
    if extra and extra not in ACTION_LABELS:
        choices[gettext("기타")] = [*choices.get(gettext("기타"), []), (extra, extra)]
    return choices
