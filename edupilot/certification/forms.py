from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from edupilot.orgs.scoping import Scope
from edupilot.programmes.models import ParticipantList, Programme
from edupilot.programmes.selectors import programmes_concerning

from .models import Decision, SourceSystem, Standard, StandardRole
from .standards import STAGE_LABELS

BATCH_STAGES = [
    (s, STAGE_LABELS[s]) for s in ("primary", "junior", "senior", "vocational", "teaching_point")
]


class BatchForm(forms.Form):
    code = forms.SlugField(label=_("批次代码"), max_length=64, help_text=_("如 hz-2024-1"))
    name = forms.CharField(label=_("批次名称"), max_length=200)
    certification_date = forms.DateField(
        label=_("认定时间"), widget=forms.DateInput(attrs={"type": "date"})
    )
    cutoff = forms.DateField(
        label=_("数据统计截止日"), widget=forms.DateInput(attrs={"type": "date"})
    )
    standard = forms.ModelChoiceField(
        label=_("认定标准"), queryset=Standard.objects.filter(role=StandardRole.MAIN)
    )
    additional = forms.ModelMultipleChoiceField(
        label=_("附加标准"),
        required=False,
        queryset=Standard.objects.filter(role=StandardRole.ADDITIONAL),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("按标准的适用学段叠加评估（如中职学校另按《职业院校数字校园规范》）"),
    )
    stages = forms.MultipleChoiceField(
        label=_("认定学段"),
        choices=BATCH_STAGES,
        initial=["primary", "junior", "senior", "vocational"],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("幼儿园不参加认定"),
    )
    exempt_titles = forms.ModelMultipleChoiceField(
        label=_("自动认定称号"),
        required=False,
        queryset=ParticipantList.objects.order_by("code"),
        widget=forms.CheckboxSelectMultiple,
    )
    programme = forms.ModelChoiceField(
        label=_("对应通知"), required=False, queryset=Programme.objects.none()
    )
    programme_batch = forms.SlugField(
        label=_("通知中的批次代码"),
        required=False,
        max_length=64,
        help_text=_("通知文件 [[batches]] 中的批次代码（如 batch1）：按其要求学校自评及申报条件"),
    )

    def __init__(self, *args, scope: Scope, **kwargs):
        super().__init__(*args, **kwargs)
        # The certification notices that concern the owner: issued above it or inside its area.
        self.fields["programme"].queryset = programmes_concerning(scope).filter(
            kind="certification"
        )

    def clean(self):
        data = super().clean()
        cutoff, certification_date = data.get("cutoff"), data.get("certification_date")
        if cutoff and certification_date and cutoff > certification_date:
            self.add_error("cutoff", _("数据统计截止日不能晚于认定时间"))
        code, programme = data.get("programme_batch"), data.get("programme")
        if code and (programme is None or all(b.code != code for b in programme.parsed.batches)):
            self.add_error("programme_batch", _("所选通知中没有这个批次代码"))
        return data


class ImportForm(forms.Form):
    source = forms.ModelChoiceField(label=_("数据来源"), queryset=None)
    file = forms.FileField(label=_("导出文件（XLSX 或 CSV）"))
    as_of = forms.DateField(
        label=_("数据日期"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("文件数据的统计日期；留空即为本批次的数据统计截止日"),
    )

    def __init__(self, *args, sources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources


class SourceForm(forms.Form):
    code = forms.SlugField(label=_("代码"), max_length=64)
    name = forms.CharField(label=_("名称"), max_length=200)
    system = forms.ChoiceField(label=_("来源系统"), choices=SourceSystem.choices)
    code_column = forms.CharField(label=_("学校代码列"), max_length=100, required=False)
    name_column = forms.CharField(label=_("学校名称列"), max_length=100, required=False)
    sheet = forms.CharField(label=_("工作表（留空为第一个）"), max_length=100, required=False)
    header_row = forms.IntegerField(label=_("表头所在行"), min_value=1, max_value=50, initial=1)
    sample = forms.FileField(label=_("样例文件（可选，用于读取列名）"), required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("认定结论"), choices=Decision.choices)
    opinion = forms.CharField(label=_("认定意见"), widget=forms.Textarea(attrs={"rows": 3}))


class CorrectionForm(forms.Form):
    indicator = forms.ChoiceField(label=_("指标"))
    value = forms.CharField(label=_("更正后的数值"), max_length=100)
    reason = forms.CharField(label=_("更正理由"), widget=forms.Textarea(attrs={"rows": 3}))
    evidence = forms.FileField(label=_("证明材料（PDF 或图片）"))

    def __init__(self, *args, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = indicators


class VisitForm(forms.Form):
    team = forms.MultipleChoiceField(
        label=_("核查组成员"), required=False, widget=forms.CheckboxSelectMultiple
    )
    team_note = forms.CharField(label=_("核查组说明"), max_length=300, required=False)
    planned_for = forms.DateField(
        label=_("计划日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = candidates


class FindingForm(forms.Form):
    indicator = forms.ChoiceField(label=_("指标"))
    met = forms.TypedChoiceField(
        label=_("核查结果"),
        choices=[("1", _("达到")), ("0", _("未达到"))],
        coerce=lambda v: v == "1",
    )
    observed = forms.CharField(label=_("核查所见"), max_length=200, required=False)
    reason = forms.CharField(
        label=_("理由（与数据不一致时必填）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    evidence = forms.FileField(label=_("照片或文件"), required=False)

    def __init__(self, *args, indicators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["indicator"].choices = indicators


class StandardUploadForm(forms.Form):
    file = forms.FileField(label=_("标准文件（TOML 或 XLSX）"))
    load = forms.BooleanField(label=_("校验通过后载入"), required=False, initial=True)
