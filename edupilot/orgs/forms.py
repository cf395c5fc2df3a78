from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Org, OrgKind, Stage, encode_stages
from .permissions import EDITABLE_FIELDS

MAX_IMPORT_MB = 20


class OrgFilterForm(forms.Form):
    q = forms.CharField(label=_("名称或代码"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("类型"), required=False, choices=[("", _("学校和单位"))] + list(OrgKind.choices)
    )
    stage = forms.ChoiceField(
        label=_("学段"), required=False, choices=[("", _("全部"))] + list(Stage.choices)
    )


class OrgAttributesForm(forms.ModelForm):
    """The attributes ``fields`` allows (the bureau's, or a school's own contact details)."""

    stage_list = forms.MultipleChoiceField(
        label=_("学段"),
        choices=Stage.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    loaded_at = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Org
        # Every editable attribute; the stages are edited as ``stage_list``.
        fields = [f for f in EDITABLE_FIELDS if f != "stages"]

    def __init__(self, *args, allowed: tuple[str, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed = allowed
        for name in list(self.fields):
            if name in ("loaded_at",):
                continue
            model_field = "stages" if name == "stage_list" else name
            if model_field not in allowed:
                del self.fields[name]
        if "stage_list" in self.fields:
            self.fields["stage_list"].initial = self.instance.stage_list
        self.fields["loaded_at"].initial = self.instance.updated_at.isoformat()

    def clean_postcode(self):
        value = (self.cleaned_data.get("postcode") or "").strip()
        if value and not (len(value) == 6 and value.isdigit()):
            raise forms.ValidationError(_("邮编应为 6 位数字。"))
        return value

    def changes(self) -> dict:
        out = {}
        for name, value in self.cleaned_data.items():
            if name == "loaded_at":
                continue
            if name == "stage_list":
                out["stages"] = encode_stages([s for s in Stage.values if s in value])
            else:
                out[name] = value
        return out


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("学校名单文件"),
        help_text=_("Excel（.xlsx）或 CSV 文件（UTF-8 或 GBK 编码），每行一个学校，第一行为表头。"),
    )
    strict = forms.BooleanField(
        label=_("有任何一行出错时不导入任何数据"), required=False, initial=False
    )

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_IMPORT_MB * 1024 * 1024:
            raise forms.ValidationError(_("文件不能超过 %(mb)s MB。") % {"mb": MAX_IMPORT_MB})
        return f


class MoveForm(forms.Form):
    parent = forms.CharField(label=_("新的上级机构代码"), max_length=32)


class DivisionForm(forms.Form):
    codes = forms.CharField(
        label=_("行政区划代码"),
        max_length=400,
        help_text=_("6 位代码，多个用空格分隔；添加省或市时，其下所有行政区划一并添加。"),
    )

    def clean_codes(self):
        return self.cleaned_data["codes"].replace("，", " ").replace(",", " ").split()


class ZoneForm(forms.Form):
    parent = forms.CharField(label=_("所属省或设区市的代码"), max_length=32)
    code = forms.CharField(label=_("功能区代码"), max_length=32, help_text=_("如 350500-KFQ"))
    name = forms.CharField(label=_("功能区名称"), max_length=200)


class GroupForm(forms.Form):
    parent = forms.CharField(label=_("主管教育部门的代码"), max_length=32)
    code = forms.CharField(label=_("集团代码"), max_length=32)
    name = forms.CharField(
        label=_("集团名称"), max_length=200, required=False, help_text=_("新建集团时必填")
    )
    campuses = forms.CharField(
        label=_("校区（学校标识码）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行或用空格分隔一个学校标识码；已有集团时，以此为准更新其校区。"),
    )

    def clean_campuses(self):
        return self.cleaned_data["campuses"].replace("，", " ").replace(",", " ").split()
