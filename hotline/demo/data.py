"""The demo city of 海川市: its units, categories, routing and appeal texts. Data only."""

CITY = ("city", "海川市", "Haichuan City")
HOTLINE = ("hotline", "海川市12345政务服务便民热线中心", "Haichuan 12345 Hotline Centre")

# code suffix, name, English name
CITY_DEPARTMENTS = [
    ("housing", "市住房和城乡建设局", "Housing and Urban-Rural Development Bureau"),
    ("ecology", "市生态环境局", "Ecology and Environment Bureau"),
    ("hrss", "市人力资源和社会保障局", "Human Resources and Social Security Bureau"),
    ("civil", "市民政局", "Civil Affairs Bureau"),
    ("education", "市教育局", "Education Bureau"),
    ("health", "市卫生健康委员会", "Health Commission"),
    ("market", "市市场监督管理局", "Market Regulation Administration"),
    ("transport", "市交通运输局", "Transport Bureau"),
    ("urban", "市城市管理局", "Urban Management Bureau"),
    ("water", "市水务局", "Water Affairs Bureau"),
    ("rural", "市农业农村局", "Agriculture and Rural Affairs Bureau"),
    ("medsec", "市医疗保障局", "Healthcare Security Administration"),
]

DISTRICT_DEPARTMENTS = [
    ("housing", "住房和城乡建设局", "Housing Bureau"),
    ("urban", "城市管理局", "Urban Management Bureau"),
    ("market", "市场监督管理局", "Market Regulation Bureau"),
    ("hrss", "人力资源和社会保障局", "Human Resources Bureau"),
]

# district name, English, [(street, [community, community]) × 3]
DISTRICTS = [
    (
        "东湖区",
        "Donghu District",
        [
            ("湖滨街道", ["柳岸社区", "望湖社区"]),
            ("东关街道", ["文昌社区", "东门社区"]),
            ("梨园街道", ["梨花社区", "新苑社区"]),
        ],
    ),
    (
        "西江区",
        "Xijiang District",
        [
            ("江岸街道", ["滨江社区", "码头社区"]),
            ("西城街道", ["西大街社区", "永安社区"]),
            ("白沙镇", ["白沙村", "红旗村"]),
        ],
    ),
    (
        "南山区",
        "Nanshan District",
        [
            ("南苑街道", ["桂花社区", "翠竹社区"]),
            ("高新街道", ["科技园社区", "创业社区"]),
            ("青山镇", ["青山村", "石桥村"]),
        ],
    ),
    (
        "北城区",
        "Beicheng District",
        [
            ("北站街道", ["站前社区", "铁路新村社区"]),
            ("和平街道", ["和平里社区", "光明社区"]),
            ("工业园街道", ["园区社区", "幸福家园社区"]),
        ],
    ),
]

ROADS = ["人民路", "解放大道", "滨江路", "建设路", "中山路", "文化路", "湖光路", "学府路", "长江路", "新华街"]
ESTATES = [
    "阳光花园",
    "锦绣华庭",
    "翠湖小区",
    "金色家园",
    "幸福里",
    "御景湾",
    "紫薇苑",
    "铁路新村",
    "城市之光",
    "碧水蓝天",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "华",
    "建国",
]

# Categories: (code, name, English, [(code, name, English, route)]).
# route: "district:<dept>" → that department of the appeal's district; "district" → the district
# government (which passes down to streets); "city:<dept>" → a city department.
CATEGORIES = [
    (
        "01",
        "社会保障与就业",
        "Social security and employment",
        [
            ("0101", "最低生活保障", "Minimum living allowance (低保)", "district"),
            ("0102", "特困人员供养", "Support for people in extreme poverty", "district"),
            ("0103", "医疗救助", "Medical assistance", "city:medsec"),
            ("0104", "临时救助", "Temporary assistance", "district"),
            ("0105", "就业服务", "Employment services", "district:hrss"),
            ("0106", "拖欠工资", "Wage arrears", "district:hrss"),
            ("0107", "社会保险", "Social insurance", "city:hrss"),
        ],
    ),
    (
        "02",
        "教育文化与体育",
        "Education, culture and sports",
        [
            ("0201", "入学招生", "School admission", "city:education"),
            ("0202", "校外培训", "After-school tutoring", "city:education"),
            ("0203", "教育收费", "School fees", "city:education"),
        ],
    ),
    (
        "03",
        "医疗卫生",
        "Health care",
        [
            ("0301", "医疗服务", "Medical services", "city:health"),
            ("0302", "医保报销", "Medical insurance reimbursement", "city:medsec"),
            ("0303", "疫苗接种", "Vaccination", "city:health"),
        ],
    ),
    (
        "04",
        "环境保护与资源利用",
        "Environment and resources",
        [
            ("0401", "空气质量", "Air quality", "city:ecology"),
            ("0402", "饮用水", "Drinking water", "city:water"),
            ("0403", "污染排放", "Pollution discharge", "city:ecology"),
            ("0404", "噪音扰民", "Noise nuisance", "district:urban"),
        ],
    ),
    (
        "05",
        "城乡建设与管理",
        "Urban and rural construction",
        [
            ("0501", "物业管理", "Property management", "district:housing"),
            ("0502", "违章建筑", "Illegal construction", "district:urban"),
            ("0503", "市政设施", "Municipal facilities", "district:urban"),
            ("0504", "公租房", "Public rental housing", "city:housing"),
            ("0505", "棚户区改造", "Shantytown redevelopment", "city:housing"),
            ("0506", "住房维修", "Housing repairs", "district:housing"),
            ("0507", "供暖", "Heating", "city:housing"),
            ("0508", "燃气供应", "Gas supply", "city:housing"),
        ],
    ),
    (
        "06",
        "交通运输",
        "Transport",
        [
            ("0601", "公交运营", "Bus services", "city:transport"),
            ("0602", "出租车网约车", "Taxis and ride-hailing", "city:transport"),
            ("0603", "停车管理", "Parking", "district:urban"),
        ],
    ),
    (
        "07",
        "商贸服务与消费者权益",
        "Commerce and consumer rights",
        [
            ("0701", "消费纠纷", "Consumer disputes", "district:market"),
            ("0702", "预付卡退费", "Prepaid card refunds", "district:market"),
            ("0703", "食品安全", "Food safety", "district:market"),
            ("0704", "药品安全", "Drug safety", "city:market"),
        ],
    ),
    (
        "08",
        "金融服务",
        "Financial services",
        [
            ("0801", "非法集资", "Illegal fund-raising", "city:market"),
        ],
    ),
    (
        "09",
        "公共安全",
        "Public safety",
        [
            ("0901", "安全隐患", "Safety hazards", "district"),
            ("0902", "电梯安全", "Lift safety", "district:market"),
        ],
    ),
    (
        "10",
        "农业农村",
        "Agriculture and rural affairs",
        [
            ("1001", "乡村振兴与脱贫攻坚", "Rural revitalisation and poverty alleviation", "city:rural"),
            ("1002", "农村道路", "Rural roads", "city:rural"),
        ],
    ),
    (
        "11",
        "政务服务",
        "Government services",
        [
            ("1101", "办事效率", "Service efficiency", "district"),
        ],
    ),
    (
        "12",
        "其他",
        "Other",
        [
            ("1201", "其他事项", "Other matters", "district"),
        ],
    ),
]

# Appeal texts: (category code, appeal type, urgency, title, body). {estate} {road} {community} are filled in.
APPEALS = [
    (
        "0501",
        "complaint",
        "normal",
        "小区物业乱收费",
        "来电人反映{estate}物业公司今年起擅自上调物业费，每平方米从1.2元涨到1.8元，未召开业主大会也未公示，"
        "要求相关部门核查物业收费标准是否合规。",
    ),
    (
        "0501",
        "complaint",
        "normal",
        "物业不作为，楼道垃圾长期无人清理",
        "{estate}3号楼楼道堆放大量杂物和垃圾，已持续两周，多次联系物业均无人处理，存在消防隐患，请求督促物业整改。",
    ),
    (
        "0501",
        "help",
        "normal",
        "小区电梯频繁故障",
        "{estate}5栋电梯近一个月故障七八次，老人上下楼困难，物业称维修资金不足，希望尽快协调维修。",
    ),
    (
        "0404",
        "complaint",
        "normal",
        "夜间施工噪音扰民",
        "{road}与{community}交界处的工地每天晚上十点以后仍在施工，噪音很大，影响周边居民休息，请求查处。",
    ),
    (
        "0404",
        "complaint",
        "normal",
        "广场舞音响声音过大",
        "{community}文化广场每晚广场舞音响开得很大，持续到晚上九点半以后，附近居民无法休息，请求协调。",
    ),
    (
        "0404",
        "complaint",
        "normal",
        "餐馆油烟和噪音扰民",
        "{road}一家烧烤店排烟管道正对居民楼，夜间油烟和噪音严重，多次沟通无果。",
    ),
    (
        "0106",
        "help",
        "normal",
        "拖欠工资",
        "来电人在{road}某装修公司工作，公司已拖欠其及另外六名工友三个月工资共计约四万元，老板拒接电话，请求帮助追讨。",
    ),
    (
        "0106",
        "help",
        "urgent",
        "农民工工资被拖欠，临近春节急需解决",
        "来电人所在工地（{road}住宅项目）拖欠二十余名农民工工资，总额约三十万元，工人情绪激动，请求尽快介入。",
    ),
    (
        "0101",
        "consultation",
        "normal",
        "咨询低保申请条件",
        "来电人家住{community}，丈夫重病无法工作，家庭收入很低，想咨询申请最低生活保障需要什么条件和材料。",
    ),
    (
        "0101",
        "help",
        "normal",
        "低保审批进度缓慢",
        "来电人三个月前在{community}提交了低保申请，至今没有结果，社区说在等街道审批，请求帮助查询进度。",
    ),
    (
        "0102",
        "help",
        "normal",
        "特困老人无人照料",
        "{community}一位八十多岁独居老人，无子女，生活不能自理，邻居反映老人近期身体状况很差，希望民政部门关注。",
    ),
    (
        "0104",
        "help",
        "urgent",
        "家中失火急需临时救助",
        "来电人家住{community}，前天家中失火，房屋和财物损毁严重，一家四口暂住亲戚家，请求申请临时救助。",
    ),
    (
        "0103",
        "consultation",
        "normal",
        "咨询医疗救助报销范围",
        "来电人是低保对象，住院花费约五万元，想咨询医疗救助能报销多少，需要到哪里办理。",
    ),
    (
        "0105",
        "consultation",
        "normal",
        "咨询失业登记和就业补贴",
        "来电人今年大学毕业尚未就业，想咨询如何办理失业登记以及能否享受就业见习补贴。",
    ),
    (
        "0107",
        "consultation",
        "normal",
        "咨询社保断缴影响",
        "来电人换工作期间社保断缴两个月，想咨询对购房资格和医保报销有没有影响，如何补缴。",
    ),
    (
        "0201",
        "consultation",
        "normal",
        "咨询小学入学划片",
        "来电人住在{estate}，孩子今年上小学，想咨询对口学校是哪一所，需要准备哪些材料。",
    ),
    (
        "0202",
        "report",
        "normal",
        "举报违规校外培训",
        "{road}某写字楼内有培训机构在周末开展学科类培训，收费高昂，疑似违规，请求查处。",
    ),
    (
        "0301",
        "complaint",
        "normal",
        "医院排队时间过长",
        "来电人反映市第一人民医院门诊挂号、缴费排队时间过长，自助机经常故障，建议增加窗口。",
    ),
    (
        "0302",
        "consultation",
        "normal",
        "异地就医备案咨询",
        "来电人父亲在外省住院，想咨询异地就医备案怎么办理，能否直接结算。",
    ),
    (
        "0401",
        "complaint",
        "normal",
        "工厂排放刺鼻气体",
        "{road}附近一家化工厂经常在夜间排放刺鼻气体，周边居民闻到后头晕恶心，请求环保部门检测查处。",
    ),
    (
        "0402",
        "complaint",
        "urgent",
        "自来水发黄有异味",
        "{estate}居民反映从昨天起自来水发黄、有异味，不敢饮用，请求尽快检测水质。",
    ),
    (
        "0402",
        "help",
        "critical",
        "供水主管爆裂",
        "{road}与{community}路口供水主管爆裂，路面积水严重，周边小区停水，请求立即抢修。",
    ),
    (
        "0403",
        "report",
        "normal",
        "河道偷排污水",
        "{community}附近河道有企业通过暗管向河里排放污水，河水发黑发臭，请求查处。",
    ),
    (
        "0502",
        "report",
        "normal",
        "楼顶私搭乱建",
        "{estate}8栋顶楼住户在楼顶搭建彩钢房，影响楼体安全和邻居采光，请求城管部门拆除。",
    ),
    (
        "0503",
        "help",
        "normal",
        "路灯损坏",
        "{road}从{community}到公交站一段约两百米路灯全部不亮，已有一周，晚上出行不安全，请求维修。",
    ),
    (
        "0503",
        "help",
        "normal",
        "井盖缺失存在安全隐患",
        "{road}人行道上一个井盖缺失，仅用树枝遮挡，行人容易踩空，请求尽快补装。",
    ),
    (
        "0504",
        "consultation",
        "normal",
        "咨询公租房申请",
        "来电人是外来务工人员，在本市工作五年，想咨询是否符合公租房申请条件及申请流程。",
    ),
    (
        "0505",
        "consultation",
        "normal",
        "棚改安置房交付时间",
        "来电人是{community}棚户区改造拆迁户，安置房原定去年底交付，至今没有消息，想了解具体交付时间。",
    ),
    (
        "0506",
        "help",
        "normal",
        "老旧小区房屋漏水",
        "{estate}是上世纪九十年代建成的老小区，来电人家顶层屋面漏水严重，雨天屋内漏水，请求维修。",
    ),
    (
        "0507",
        "help",
        "critical",
        "冬季小区暖气不热",
        "{estate}整个小区暖气温度只有十几度，家中有老人和婴儿，多次联系供热公司未解决，请求尽快处理。",
    ),
    (
        "0508",
        "help",
        "critical",
        "燃气泄漏气味明显",
        "来电人在{estate}楼道闻到明显燃气味，已通知邻居开窗，请求燃气公司立即派人检修。",
    ),
    (
        "0601",
        "suggestion",
        "normal",
        "建议增开公交线路",
        "{community}新建小区入住人口较多，附近没有公交站，建议增开或调整公交线路方便居民出行。",
    ),
    (
        "0601",
        "complaint",
        "normal",
        "公交车到站不停",
        "来电人在{road}公交站等车，公交车多次到站不停靠，司机态度恶劣，请求核查。",
    ),
    (
        "0602",
        "complaint",
        "normal",
        "网约车绕路多收费",
        "来电人昨晚乘坐网约车从火车站到{estate}，司机故意绕路，多收费约三十元，请求处理。",
    ),
    (
        "0603",
        "complaint",
        "normal",
        "小区门口车辆乱停堵塞通道",
        "{estate}门口长期有车辆乱停乱放，堵塞消防通道，请求加强管理。",
    ),
    (
        "0701",
        "complaint",
        "normal",
        "商家拒不退货",
        "来电人在{road}某家电商场购买冰箱，使用一周出现故障，商家拒绝退换，请求市场监管部门协调。",
    ),
    (
        "0702",
        "complaint",
        "normal",
        "健身房关门无法退费",
        "来电人在{road}某健身房办理年卡三千元，近日健身房突然关门，老板失联，请求帮助退费。",
    ),
    (
        "0703",
        "report",
        "normal",
        "餐馆使用过期食材",
        "来电人反映{road}一家快餐店后厨卫生很差，疑似使用过期食材，请求检查。",
    ),
    (
        "0704",
        "report",
        "normal",
        "药店无处方销售处方药",
        "{community}附近一家药店不凭处方销售抗生素等处方药，请求查处。",
    ),
    (
        "0801",
        "report",
        "normal",
        "疑似非法集资",
        "来电人反映{road}某投资公司以高额回报为诱饵吸收老年人资金，疑似非法集资，请求调查。",
    ),
    (
        "0901",
        "report",
        "urgent",
        "小区电动车楼道充电",
        "{estate}多栋楼有居民将电动车推进楼道充电，存在严重火灾隐患，物业劝阻无效。",
    ),
    (
        "0902",
        "help",
        "critical",
        "电梯困人",
        "{estate}2栋电梯停在两层之间，里面困了一位老人和一个孩子，物业电话打不通，请求紧急救援。",
    ),
    (
        "1001",
        "consultation",
        "normal",
        "脱贫户产业补贴咨询",
        "来电人是{community}脱贫户，想发展养殖，咨询是否有产业扶持补贴及申请方式。",
    ),
    (
        "1002",
        "help",
        "normal",
        "村道坑洼难行",
        "{community}通往镇上的村道坑洼严重，雨天无法通行，村民出行困难，请求修缮。",
    ),
    (
        "1101",
        "suggestion",
        "normal",
        "建议政务大厅延长办公时间",
        "来电人建议区政务服务大厅周末增加办公时间，方便上班族办理业务。",
    ),
    (
        "1101",
        "praise",
        "normal",
        "表扬社区工作人员",
        "来电人表扬{community}工作人员耐心细致，帮助其办理了老年人优待证，特此致谢。",
    ),
    (
        "1201",
        "consultation",
        "normal",
        "咨询居住证办理",
        "来电人刚来本市工作，想咨询居住证办理需要哪些材料、到哪里办理。",
    ),
]

# Canned texts for the demo's answers, reviews and refusals.
ANSWERS = [
    "经核查，来电反映情况属实。我单位已约谈相关责任方，责令限期整改，目前问题已解决。已电话联系来电人告知处理结果，来电人表示认可。",
    "接件后我单位工作人员于当日到现场核实，已协调相关单位进行处理，并将持续跟踪。已与来电人沟通处理情况。",
    "经调查，来电人反映问题部分属实。我单位已依法立案调查，后续将按程序处理，处理结果将及时告知来电人。",
    "已联系来电人详细了解情况，并向其解释相关政策规定，指导其按程序办理，来电人表示理解。",
]
DIRECT_ANSWERS = [
    "已根据知识库政策解读向来电人详细解答办理条件、所需材料和办理地点，来电人表示清楚。",
    "已告知来电人相关政策规定及咨询电话，来电人表示满意。",
]
REFUSALS = [
    "来电人反映的是已进入诉讼程序的民事纠纷，已告知其通过司法途径解决。",
    "该事项属于信访事项，已告知来电人到信访部门反映。",
    "来电人反映的地点不在本市行政区域内，已告知其向当地热线反映。",
]
EMERGENCY_TRANSFERS = [
    "来电人反映小区内有人持刀打架，已三方转接110处置。",
    "来电人反映居民楼起火冒烟，已立即转接119。",
    "来电人家中老人突发昏迷，已转接120急救。",
]
RETURN_REASONS = [
    "该事项不属于我单位职责范围，根据三定方案应由属地街道负责，申请退回重新派单。",
    "经核实，反映地点不在我单位辖区，请改派相应属地单位。",
]
SEND_BACK_REASONS = ["答复内容未回应来电人诉求，请补充处理结果。", "答复过于简单，请补充核查过程和整改措施。"]
SUSPEND_REASONS = ["需等待第三方检测机构出具水质检测报告，申请挂起。", "涉及多部门会商，需等待专题会议决定。"]
UNSATISFIED_COMMENTS = ["问题没有解决，只是电话里解释了一下。", "物业还是没有整改。"]
PROGRESS_NOTES = ["已联系来电人了解详情，正在协调相关单位。", "已到现场核实，正在制定整改方案。"]

# Canned answers (常用答复): (category code or None for all, title, body)
CANNED_ANSWERS = [
    (
        None,
        "已处理并回复来电人",
        "经核查，来电人反映情况属实。我单位已于X月X日到现场处理，问题已解决，并已电话告知来电人处理结果。",
    ),
    (
        None,
        "非本单位职责的说明",
        "经核实，该事项不属于我单位职责范围。根据有关规定，该事项由XX负责，已告知来电人办理途径。",
    ),
    (
        "0501",
        "物业收费核查",
        "经核查，该小区物业服务收费标准已向主管部门备案。我局已约谈物业公司，责令其规范收费行为并向业主公示收费明细。",
    ),
    (
        "0404",
        "噪音扰民处理",
        "接件后执法人员于当晚到现场核查，已责令施工单位停止夜间施工，并告知须办理夜间施工许可。后续将加强巡查。",
    ),
    (
        "0106",
        "欠薪协调结果",
        "经协调，用人单位已承诺于X月X日前足额支付拖欠工资。我局将跟踪兑付情况，如未按期支付将依法立案查处。",
    ),
]
