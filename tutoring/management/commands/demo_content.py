"""The demo school's lessons: real material a teacher could show a colleague."""

from __future__ import annotations

from typing import Any

FRACTIONS: dict[str, Any] = {
    "title": "Fractions: parts of a whole",
    "subject": "Mathematics",
    "grade_band": "Grades 3-5",
    "language": "en",
    "reading_level": "elementary",
    "tone": "warm, encouraging, concrete",
    "answer_policy": "hints_first",
    "full_solution_after_tries": 3,
    "objectives": "- Explain what a fraction means\n- Compare fractions with the same "
    "denominator\n- Add fractions with the same denominator",
    "key_concepts": "numerator, denominator, equal parts, unit fraction",
    "material": (
        "## What is a fraction?\n\n"
        "A fraction describes a part of a whole that has been split into **equal parts**. "
        "In $\\frac{3}{4}$ the bottom number, the *denominator*, says the whole is split into "
        "4 equal parts. The top number, the *numerator*, says we take 3 of them.\n\n"
        "## Comparing fractions\n\n"
        "When two fractions have the same denominator, the parts are the same size, so the "
        "fraction with the bigger numerator is bigger: $\\frac{3}{8} > \\frac{2}{8}$.\n\n"
        "## Adding fractions\n\n"
        "To add fractions with the same denominator, add the numerators and keep the "
        "denominator: $\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$. The size of the parts "
        "does not change when you put them together."
    ),
    "worked_examples": (
        "Pizza: a pizza is cut into 8 equal slices and you eat 3. You ate $\\frac{3}{8}$ of "
        "the pizza.\n\n"
        "Adding: $\\frac{2}{6} + \\frac{3}{6}$: add the numerators $2 + 3 = 5$ and keep the "
        "sixths, so the answer is $\\frac{5}{6}$."
    ),
    "misconceptions": (
        "Adding the denominators too: $\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{10}$ is wrong, "
        "because the parts stay fifths.\n\n"
        "Thinking a bigger denominator means a bigger fraction: $\\frac{1}{8}$ is smaller "
        "than $\\frac{1}{4}$."
    ),
    "exercises": [
        {
            "prompt": "What is $\\frac{1}{5} + \\frac{2}{5}$?",
            "answer_key": "3/5",
            "accepted_answers": ["three fifths", "0.6"],
            "misconception_tags": ["adds denominators"],
            "solution": "Add the numerators, keep the denominator: $\\frac{3}{5}$.",
        },
        {
            "prompt": "Which is bigger, $\\frac{1}{8}$ or $\\frac{1}{4}$? Type the fraction.",
            "answer_key": "1/4",
            "accepted_answers": ["one quarter", "one fourth"],
            "misconception_tags": ["bigger denominator means bigger"],
            "solution": "Quarters are bigger pieces than eighths, so $\\frac{1}{4}$ is bigger.",
        },
    ],
}

PHOTOSYNTHESIS: dict[str, Any] = {
    "title": "Photosynthesis: how plants make food",
    "subject": "Biology",
    "grade_band": "Grades 6-8",
    "language": "en",
    "reading_level": "middle",
    "tone": "curious, precise",
    "answer_policy": "worked_step",
    "objectives": "- Name the inputs and outputs of photosynthesis\n- Explain the role of "
    "chlorophyll and light",
    "key_concepts": "chlorophyll, carbon dioxide, glucose, oxygen, light energy",
    "material": (
        "## The big idea\n\n"
        "Plants make their own food through **photosynthesis**. In the leaves, a green "
        "pigment called *chlorophyll* captures light energy.\n\n"
        "## Inputs and outputs\n\n"
        "Plants take in carbon dioxide from the air through small pores called stomata, and "
        "water from the soil through their roots. Using light energy they turn these into "
        "glucose, a sugar that stores energy, and release oxygen.\n\n"
        "$$6CO_2 + 6H_2O \\xrightarrow{\\text{light}} C_6H_{12}O_6 + 6O_2$$\n\n"
        "## Why it matters\n\n"
        "Almost all food chains start with photosynthesis, and it produces the oxygen "
        "animals breathe."
    ),
    "worked_examples": (
        "Question: Where does the oxygen released by a plant come from? Step 1: list the "
        "inputs (carbon dioxide and water). Step 2: the oxygen is released when water "
        "molecules are split using light energy."
    ),
    "misconceptions": (
        "Plants get their food from the soil: in fact the soil gives water and minerals, "
        "the food (glucose) is made in the leaves.\n\n"
        "Plants do not respire: plants also respire, day and night."
    ),
    "exercises": [
        {
            "prompt": "Which gas do plants take in for photosynthesis?",
            "answer_key": "carbon dioxide",
            "accepted_answers": ["CO2", "co₂"],
            "misconception_tags": ["confuses with oxygen"],
            "solution": "Carbon dioxide enters through the stomata.",
        },
    ],
}

PYTHON_LOOPS: dict[str, Any] = {
    "title": "Python loops: repeating with for",
    "subject": "Computer science",
    "grade_band": "Grades 7-9",
    "language": "en",
    "reading_level": "middle",
    "tone": "friendly, hands-on",
    "answer_policy": "hints_first",
    "objectives": "- Write a for loop over a range\n- Predict how many times a loop runs",
    "key_concepts": "for loop, range, iteration, loop variable",
    "material": (
        "## Repeating work\n\n"
        "A `for` loop runs the same block of code once for each item. `range(5)` gives the "
        "numbers 0, 1, 2, 3, 4 — five numbers, starting at 0 and stopping *before* 5.\n\n"
        "```python\nfor i in range(3):\n    print('Hello', i)\n```\n\n"
        "This prints `Hello 0`, `Hello 1` and `Hello 2`.\n\n"
        "## Adding up\n\n"
        "A loop can build a total step by step: start with `total = 0` and add inside the "
        "loop."
    ),
    "worked_examples": (
        "Sum of 1 to 4:\n\n```python\ntotal = 0\nfor n in range(1, 5):\n    total = total + n\n"
        "print(total)  # 10\n```"
    ),
    "misconceptions": (
        "range(5) includes 5: it stops before 5.\n\n"
        "The loop variable keeps its first value: it changes every time the loop runs."
    ),
    "exercises": [
        {
            "prompt": "How many times does `for i in range(4):` run its body?",
            "answer_key": "4",
            "accepted_answers": ["four"],
            "misconception_tags": ["off by one"],
            "solution": "range(4) gives 0, 1, 2, 3: four values, so four times.",
        },
    ],
}

FRACTIONS_ZH: dict[str, Any] = {
    "title": "分数的认识",
    "subject": "数学",
    "grade_band": "三至五年级",
    "language": "zh-hans",
    "reading_level": "elementary",
    "tone": "亲切、鼓励",
    "answer_policy": "hints_first",
    "objectives": "- 理解分数的意义\n- 会比较同分母分数的大小\n- 会计算同分母分数加法",
    "key_concepts": "分子，分母，平均分，单位分数",
    "material": (
        "## 什么是分数\n\n"
        "把一个整体**平均分**成若干份，表示其中一份或几份的数叫做分数。"
        "在 $\\frac{3}{4}$ 中，下面的数叫分母，表示把整体平均分成 4 份；"
        "上面的数叫分子，表示取了其中的 3 份。\n\n"
        "## 同分母分数的加法\n\n"
        "同分母分数相加，分母不变，分子相加：$\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{5}$。"
    ),
    "worked_examples": ("一个蛋糕平均切成 8 块，小明吃了 3 块，他吃了这个蛋糕的 $\\frac{3}{8}$。"),
    "misconceptions": "把分母也相加：$\\frac{1}{5} + \\frac{2}{5} = \\frac{3}{10}$ 是错误的。",
    "exercises": [
        {
            "prompt": "计算：$\\frac{2}{7} + \\frac{3}{7}$ = ?",
            "answer_key": "5/7",
            "accepted_answers": ["七分之五"],
            "misconception_tags": ["分母相加"],
            "solution": "分母不变，分子相加：$\\frac{5}{7}$。",
        },
    ],
}

LESSONS: list[dict[str, Any]] = [FRACTIONS, PHOTOSYNTHESIS, PYTHON_LOOPS, FRACTIONS_ZH]

STUDENTS: list[dict[str, Any]] = [
    {
        "email": "student@demo.lantern.test",
        "full_name": "Sam Student",
        "profile": {
            "grade": "5",
            "reading_level": "elementary",
            "interests": "football, pizza",
            "preferred_language": "en",
        },
    },
    {
        "email": "mei@demo.lantern.test",
        "full_name": "Li Mei",
        "profile": {
            "grade": "4",
            "reading_level": "elementary",
            "interests": "画画，小猫",
            "preferred_language": "zh-hans",
        },
    },
    {
        "email": "jo@demo.lantern.test",
        "full_name": "Jo Early",
        "profile": {
            "grade": "3",
            "reading_level": "early",
            "interests": "dinosaurs",
            "accommodations": "short sentences",
            "preferred_language": "en",
        },
    },
]
