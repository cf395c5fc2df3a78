"""The demo schools' tables (see ``demo.py``): the counts file, the shares and weights that
split and describe schools, headcount ranges, postcodes, and the parts names are made of."""

from __future__ import annotations

from pathlib import Path

from .models import Locality, Stage

DATA = Path(__file__).with_name("data") / "school_counts.json"
CN_DIGITS = "零一二三四五六七八九"

# Stage keys of the counts file, and the demo's own buckets.
PRIMARY, JUNIOR, SENIOR, VOCATIONAL = "primary", "junior", "senior", "vocational"
KINDERGARTEN, TEACHING_POINT = "kindergarten", "teaching_point"
BUCKETS = (PRIMARY, JUNIOR, SENIOR, VOCATIONAL, KINDERGARTEN, TEACHING_POINT)

# The share of a city's schools run by the city itself (市直), by bucket: high schools and
# vocational schools are often city-run, primary schools rarely.
CITY_DIRECT_SHARE = {
    PRIMARY: 0.015,
    JUNIOR: 0.03,
    SENIOR: 0.15,
    VOCATIONAL: 0.35,
    KINDERGARTEN: 0.01,
    TEACHING_POINT: 0.0,
}
# Relative weight of a county in its city's split, by division type (counties are rural and
# large; urban districts are dense but small).
TYPE_WEIGHT = {"市辖区": 0.8, "县级市": 1.4, "县": 1.5, "自治县": 1.2, "zone": 0.5}

PRIVATE_SHARE = {
    PRIMARY: 0.04,
    JUNIOR: 0.08,
    "nine_year": 0.15,
    SENIOR: 0.2,
    VOCATIONAL: 0.3,
    KINDERGARTEN: 0.5,
    TEACHING_POINT: 0.0,
}
LOCALITY_WEIGHTS = {
    # urban, town, rural
    "市辖区": (0.8, 0.15, 0.05),
    "zone": (0.5, 0.35, 0.15),
    "county": (0.08, 0.37, 0.55),
    "direct": (0.9, 0.1, 0.0),
}
BANDWIDTH_TIERS = (10, 20, 30, 50, 100, 200, 300, 500, 1000)
BANDWIDTH_WEIGHTS = {
    Locality.URBAN: (0, 0, 0.02, 0.06, 0.25, 0.25, 0.12, 0.15, 0.15),
    Locality.TOWN: (0, 0.03, 0.07, 0.15, 0.4, 0.2, 0.07, 0.05, 0.03),
    Locality.RURAL: (0.05, 0.12, 0.18, 0.2, 0.3, 0.1, 0.03, 0.02, 0),
    TEACHING_POINT: (0.25, 0.3, 0.2, 0.15, 0.1, 0, 0, 0, 0),
}
# Students per school (low, high) by bucket and locality; teachers from a pupil-teacher ratio.
STUDENTS = {
    PRIMARY: {Locality.URBAN: (1200, 3500), Locality.TOWN: (500, 1800), Locality.RURAL: (60, 500)},
    JUNIOR: {
        Locality.URBAN: (1000, 3000),
        Locality.TOWN: (500, 2000),
        Locality.RURAL: (200, 900),
    },
    SENIOR: {
        Locality.URBAN: (1800, 4500),
        Locality.TOWN: (1200, 3500),
        Locality.RURAL: (800, 2000),
    },
    VOCATIONAL: {
        Locality.URBAN: (800, 4000),
        Locality.TOWN: (600, 2500),
        Locality.RURAL: (300, 1200),
    },
    KINDERGARTEN: {
        Locality.URBAN: (150, 500),
        Locality.TOWN: (90, 360),
        Locality.RURAL: (30, 180),
    },
    TEACHING_POINT: {Locality.RURAL: (5, 80)},
}
PUPIL_TEACHER = {
    PRIMARY: 17,
    JUNIOR: 13,
    SENIOR: 12.5,
    VOCATIONAL: 18,
    KINDERGARTEN: 13,
    TEACHING_POINT: 12,
}

POSTCODES = {
    "410100": "450",
    "410200": "475",
    "410300": "471",
    "410400": "467",
    "410500": "455",
    "410600": "458",
    "410700": "453",
    "410800": "454",
    "410900": "457",
    "411000": "461",
    "411100": "462",
    "411200": "472",
    "411300": "473",
    "411400": "476",
    "411500": "464",
    "411600": "466",
    "411700": "463",
    "419001": "459",
    "330100": "310",
    "330200": "315",
    "330300": "325",
    "330400": "314",
    "330500": "313",
    "330600": "312",
    "330700": "321",
    "330800": "324",
    "330900": "316",
    "331000": "318",
    "331100": "323",
    "350500": "362",
    "430400": "421",
}

SURNAMES = (
    "李王张刘陈杨黄赵周吴孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏付方白邹孟熊秦邱江尹薛段雷侯龙史陶贺顾毛郝龚邵万钱严武戴孔汤"
)
PLACE_FIRST = SURNAMES + "东西南北新大小上中前后双三柳桃杏枣槐杨梅青红黄白石沙"
PLACE_SECOND = "庄集店寨营岗桥河湾坪口铺楼屯堡港埠塘溪岭山坝园林洼坡滩渡城"
ROADS = (
    "文化",
    "纬五",
    "经三",
    "人民",
    "解放",
    "建设",
    "中山",
    "和平",
    "胜利",
    "红旗",
    "工人",
    "五一",
    "新华",
    "民主",
    "花园",
    "黄河",
    "长江",
    "东风",
    "凤凰",
    "健康",
    "农业",
    "丰产",
    "桐柏",
    "淮河",
    "嵩山",
    "伏牛",
    "育才",
    "朝阳",
    "光明",
    "幸福",
    "青年",
    "友谊",
    "团结",
    "迎宾",
    "滨河",
)
PRIVATE_NAMES = (
    "育才",
    "博文",
    "求实",
    "明德",
    "启智",
    "英才",
    "思源",
    "华夏",
    "东方",
    "新世纪",
    "致远",
    "卓越",
    "博雅",
    "启航",
)
KINDERGARTEN_NAMES = (
    "小太阳",
    "金色童年",
    "启航",
    "博雅",
    "童心",
    "阳光",
    "育才",
    "蓝天",
    "小天鹅",
    "七彩",
    "贝贝",
    "新星",
    "春苗",
    "智慧树",
    "爱心",
    "快乐成长",
    "星光",
    "彩虹",
    "金摇篮",
    "未来之星",
    "小博士",
    "向日葵",
)
VOCATIONAL_FIELDS = (
    "工业",
    "卫生",
    "财经",
    "商贸",
    "交通",
    "农业",
    "旅游",
    "艺术",
    "信息工程",
    "机电",
)

# Henan's 厅直属中小学校 (the notice addresses them beside the cities): demo names.
HENAN_PROVINCE_DIRECT = (
    ("河南省实验中学", (Stage.JUNIOR, Stage.SENIOR)),
    ("河南省实验小学", (Stage.PRIMARY,)),
    ("河南省实验幼儿园", (Stage.KINDERGARTEN,)),
    ("河南省实验文博学校", (Stage.PRIMARY, Stage.JUNIOR)),
)
# Zhejiang universities that apply straight to the province (real names, demo codes).
ZHEJIANG_UNIVERSITIES = (
    ("浙江大学", "330100"),
    ("浙江工业大学", "330100"),
    ("浙江师范大学", "330700"),
    ("宁波大学", "330200"),
    ("杭州电子科技大学", "330100"),
    ("浙江理工大学", "330100"),
    ("浙江工商大学", "330100"),
    ("中国美术学院", "330100"),
    ("浙江中医药大学", "330100"),
    ("温州医科大学", "330300"),
    ("浙江农林大学", "330100"),
    ("浙江财经大学", "330100"),
    ("中国计量大学", "330100"),
    ("杭州师范大学", "330100"),
    ("浙江海洋大学", "330900"),
    ("浙江科技大学", "330100"),
    ("绍兴文理学院", "330600"),
    ("湖州师范学院", "330500"),
)
# Hengyang's 局直属单位 (the city bureau's own units): demo names.
HENGYANG_UNITS = (
    "衡阳市电化教育馆",
    "衡阳市教育科学研究所",
    "衡阳市教师发展中心",
    "衡阳市青少年校外活动中心",
    "衡阳市学生资助管理中心",
)
