"""Write the demo PubMed files (data/demo/pubmed/*.xml.gz) from the invented records below.

Every record is invented for the demo; PMIDs are in the fake range 90000001-90000099. The output follows the
PubMed DTD (PubmedArticleSet / PubmedArticle / MedlineCitation / PubmedData, DeleteCitation at the end) and is
gzipped with mtime 0 so that reruns give byte-identical files. Planted cases are listed in data/demo/README.md.

    .venv/bin/python scripts/make_demo_pubmed.py
"""

from __future__ import annotations

import gzip
from pathlib import Path
from xml.sax.saxutils import escape

OUT = Path(__file__).resolve().parents[1] / "data" / "demo" / "pubmed"
HEADER = (
    '<?xml version="1.0" ?>\n'
    '<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, 1st January 2025//EN" '
    '"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd">\n<PubmedArticleSet>\n'
)
JOURNALS = [
    ("Journal of Demo Clinical Medicine", "J Demo Clin Med", "2999-0001"),
    ("Demo Reviews in Cardiology", "Demo Rev Cardiol", "2999-0002"),
    ("International Journal of Invented Public Health", "Int J Invent Public Health", "2999-0003"),
    ("Demo Pediatrics", "Demo Pediatr", "2999-0004"),
]
PUB_TYPE_UI = {
    "Journal Article": "D016428",
    "Randomized Controlled Trial": "D016449",
    "Review": "D016454",
    "Systematic Review": "D000078182",
    "Meta-Analysis": "D017418",
    "Case Reports": "D002363",
    "Letter": "D016422",
    "Observational Study": "D064888",
    "Comment": "D016420",
}
ELECTRONIC = ' DateType="Electronic"'
PUBSTATUS_PUBMED = ' PubStatus="pubmed"'
PUBSTATUS_MEDLINE = ' PubStatus="medline"'
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

S = "structured"
# (pmid, title, abstract, pub_types, mesh [(descriptor, qualifier|None, major)], extra)
# abstract: a string (unstructured) or a list of (label, nlm_category, text).
RECORDS: list[dict] = [
    dict(
        pmid=90000001,
        title="Daily vitamin D3 supplementation and acute respiratory infections in adults aged 65 years and "
        "older: a randomized, placebo-controlled trial.",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Observational studies link low serum 25-hydroxyvitamin D concentrations "
                "with respiratory infections, but trials in community-dwelling older adults are inconsistent.",
            ),
            (
                "METHODS",
                "METHODS",
                "We randomly assigned 612 adults aged 65 years or older to 2000 IU of vitamin D3 "
                "daily or matching placebo for 12 months. The primary outcome was the number of participants with at "
                "least one laboratory-confirmed acute respiratory infection.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Mean 25-hydroxyvitamin D rose from 48 to 91 nmol/L in the vitamin D group and was "
                "unchanged with placebo. Infection occurred in 118 of 306 participants (38.6%) receiving vitamin D and "
                "in 124 of 306 (40.5%) receiving placebo (risk ratio 0.95; 95% CI 0.78 to 1.16). Hypercalcaemia was "
                "rare and similar between groups.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "Daily vitamin D3 did not reduce acute respiratory infections in older "
                "adults without severe deficiency.",
            ),
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[
            ("Vitamin D", "administration & dosage", True),
            ("Respiratory Tract Infections", "prevention & control", True),
            ("Aged", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000002,
        title="Home blood pressure telemonitoring with pharmacist case management for uncontrolled hypertension.",
        abstract=[
            (
                "OBJECTIVE",
                "OBJECTIVE",
                "To test whether home telemonitoring combined with pharmacist-led titration "
                "improves blood pressure control compared with usual primary care.",
            ),
            (
                "DESIGN",
                "METHODS",
                "Pragmatic cluster randomized trial in 16 primary care practices; 450 adults with "
                "systolic blood pressure of 140 mm Hg or higher despite treatment.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "At 12 months systolic pressure fell by 17.3 mm Hg with telemonitoring and by "
                "8.9 mm Hg with usual care (difference 8.4 mm Hg; 95% CI 5.6 to 11.2). Control below 140/90 mm Hg was "
                "reached by 62% versus 39%. Medication intensity increased more in the intervention arm.",
            ),
            (
                "CONCLUSION",
                "CONCLUSIONS",
                "Telemonitoring with pharmacist case management produced a sustained and "
                "clinically relevant reduction in blood pressure.",
            ),
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[
            ("Hypertension", "drug therapy", True),
            ("Telemedicine", None, True),
            ("Pharmacists", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000003,
        title="Habitual sleep duration and incident type 2 diabetes in a prospective cohort of working adults.",
        abstract="Short sleep has been associated with insulin resistance in laboratory studies. We followed 8214 "
        "employees without diabetes for a median of 7.2 years and recorded self-reported sleep duration at baseline. "
        "Incident type 2 diabetes was ascertained from annual health examinations. Compared with 7 hours of sleep, "
        "sleeping 5 hours or less was associated with a higher risk of diabetes (adjusted hazard ratio 1.41; 95% CI "
        "1.12 to 1.77), while sleeping 9 hours or more was not clearly associated with risk. The association persisted "
        "after adjustment for body mass index, shift work and physical activity. Short sleep may be a modifiable risk "
        "factor for type 2 diabetes in working populations.",
        pub_types=["Journal Article", "Observational Study"],
        mesh=[
            ("Diabetes Mellitus, Type 2", "epidemiology", True),
            ("Sleep Duration", None, True),
            ("Cohort Studies", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000004,
        title="Sodium-glucose cotransporter 2 inhibitors in heart failure with preserved ejection fraction: a "
        "narrative review.",
        abstract="Heart failure with preserved ejection fraction accounts for about half of heart failure "
        "hospitalizations and, until recently, lacked therapies that changed outcomes. This review summarizes the "
        "trial evidence for sodium-glucose cotransporter 2 inhibitors in this population, the proposed mechanisms "
        "beyond glycosuria, including natriuresis, reduced cardiac preload and improved myocardial energetics, and "
        "the practical issues of starting treatment in older patients with chronic kidney disease. We discuss "
        "volume status, genital mycotic infections and the small initial fall in estimated glomerular filtration "
        "rate, and outline open questions on timing after decompensation.",
        pub_types=["Journal Article", "Review"],
        mesh=[
            ("Heart Failure", "drug therapy", True),
            ("Sodium-Glucose Transporter 2 Inhibitors", "therapeutic use", True),
            ("Stroke Volume", None, False),
            ("Humans", None, False),
        ],
        journal=1,
    ),
    dict(
        pmid=90000005,
        title="Early mobilization within 24 hours after hip fracture surgery and 30-day functional recovery.",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Delayed mobilization after hip fracture surgery is common and may slow "
                "recovery in frail older patients.",
            ),
            (
                "METHODS",
                "METHODS",
                "In this randomized trial at three orthopaedic centres, 240 patients aged 70 years "
                "or older were assigned to physiotherapist-supervised mobilization within 24 hours of surgery or to "
                "standard mobilization after 48 hours.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "At 30 days, the proportion of patients walking independently with or without an "
                "aid was 58% in the early group and 41% in the standard group. Postoperative delirium occurred in 14% "
                "and 23% of patients respectively, and length of stay was shorter by a median of two days.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "Mobilization within 24 hours of hip fracture surgery improved early "
                "functional recovery without an excess of falls or wound complications.",
            ),
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[
            ("Hip Fractures", "surgery", True),
            ("Early Ambulation", None, True),
            ("Aged, 80 and over", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000006,
        title="Isoniazid-induced hepatotoxicity in an adolescent receiving treatment for latent tuberculosis.",
        abstract="We describe a 15-year-old girl who developed jaundice, nausea and a serum alanine aminotransferase "
        "of 1240 U/L eleven weeks after starting isoniazid for latent tuberculosis infection. Viral and autoimmune "
        "causes were excluded. Isoniazid was stopped and liver tests normalized within six weeks. The case illustrates "
        "that clinically significant hepatotoxicity can occur in adolescents and supports symptom-based monitoring "
        "and education of families, together with shorter rifamycin-based regimens where appropriate.",
        pub_types=["Journal Article", "Case Reports"],
        mesh=[
            ("Isoniazid", "adverse effects", True),
            ("Chemical and Drug Induced Liver Injury", "etiology", True),
            ("Latent Tuberculosis", "drug therapy", False),
            ("Adolescent", None, False),
            ("Humans", None, False),
        ],
        journal=3,
    ),
    dict(
        pmid=90000007,
        title="Implementation of an antimicrobial stewardship programme in a 90-bed rural hospital.",
        abstract="Rural hospitals often lack infectious disease specialists to run stewardship programmes. We "
        "describe a programme led by a hospital pharmacist with weekly remote review by an infectious disease "
        "physician. Over two years, days of antibiotic therapy per 1000 patient-days fell from 612 to 498, use of "
        "fluoroquinolones fell by 46%, and Clostridioides difficile infections declined from 7 to 3 per year. "
        "Readmissions and in-hospital mortality did not change. A pharmacist-led model with telehealth support is "
        "feasible in small hospitals.",
        pub_types=["Journal Article"],
        mesh=[
            ("Antimicrobial Stewardship", "organization & administration", True),
            ("Hospitals, Rural", None, True),
            ("Anti-Bacterial Agents", "therapeutic use", False),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000008,
        title="Diagnostic accuracy of point-of-care ultrasound for distal forearm fractures in children.",
        abstract=[
            (
                "OBJECTIVES",
                "OBJECTIVE",
                "To estimate the accuracy of emergency physician-performed ultrasound for "
                "distal forearm fractures in children, with radiography as the reference standard.",
            ),
            (
                "METHODS",
                "METHODS",
                "Prospective diagnostic study of 187 children aged 4 to 16 years presenting with "
                "wrist injury to a paediatric emergency department.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Fractures were present in 96 children. Ultrasound had a sensitivity of 94.8% "
                "(95% CI 88.3 to 98.3) and a specificity of 92.3% (95% CI 84.8 to 96.9). Children reported less pain "
                "during ultrasound than during radiography.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "Point-of-care ultrasound is accurate for distal forearm fractures and "
                "could reduce radiographs in selected children.",
            ),
        ],
        pub_types=["Journal Article"],
        mesh=[
            ("Radius Fractures", "diagnostic imaging", True),
            ("Point-of-Care Systems", None, False),
            ("Ultrasonography", None, True),
            ("Child", None, False),
            ("Humans", None, False),
        ],
        journal=3,
    ),
    dict(
        pmid=90000009,
        title="Does metformin reduce large-for-gestational-age births in women with gestational diabetes treated "
        "beyond diet?",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Metformin is increasingly used as first-line pharmacological treatment of "
                "gestational diabetes, but its effect on fetal overgrowth compared with insulin remains debated.",
            ),
            (
                "METHODS",
                "METHODS",
                "Retrospective cohort of 1046 singleton pregnancies with gestational diabetes "
                "requiring pharmacological treatment at two maternity units; 538 received metformin alone or with "
                "supplemental insulin and 508 received insulin alone.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Large-for-gestational-age birth occurred in 11.2% of the metformin group and "
                "16.5% of the insulin group (adjusted odds ratio 0.66; 95% CI 0.46 to 0.95). Neonatal hypoglycaemia was "
                "less frequent with metformin, and 31% of women on metformin needed supplemental insulin.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "In women with gestational diabetes requiring drug treatment, metformin was "
                "associated with fewer large-for-gestational-age births than insulin.",
            ),
        ],
        pub_types=["Journal Article", "Observational Study"],
        mesh=[
            ("Diabetes, Gestational", "drug therapy", True),
            ("Metformin", "therapeutic use", True),
            ("Fetal Macrosomia", "prevention & control", False),
            ("Pregnancy", None, False),
            ("Female", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000010,
        title="The gut microbiome in inflammatory bowel disease: from association to intervention.",
        abstract="Patients with Crohn's disease and ulcerative colitis show reduced microbial diversity, depletion of "
        "butyrate-producing Firmicutes and expansion of adherent-invasive Escherichia coli. This review examines "
        "whether these changes are causes or consequences of intestinal inflammation, drawing on germ-free mouse "
        "models, longitudinal paediatric cohorts and trials of faecal microbiota transplantation. Transplantation has "
        "shown modest efficacy in ulcerative colitis and little in Crohn's disease. We argue that defined bacterial "
        "consortia and diet-based strategies deserve rigorous trials.",
        pub_types=["Journal Article", "Review"],
        mesh=[
            ("Inflammatory Bowel Diseases", "microbiology", True),
            ("Gastrointestinal Microbiome", None, True),
            ("Fecal Microbiota Transplantation", None, False),
            ("Humans", None, False),
        ],
        journal=1,
    ),
    dict(
        pmid=90000011,
        title="Health literacy and inhaler adherence among adults with chronic obstructive pulmonary disease.",
        abstract="We surveyed 302 outpatients with chronic obstructive pulmonary disease at four pulmonary clinics. "
        "Health literacy was measured with a validated short instrument and adherence with pharmacy refill records "
        "over 12 months. Limited health literacy was present in 37% of patients and was associated with a lower "
        "proportion of days covered for maintenance inhalers (0.54 versus 0.71). Inhaler technique errors were also "
        "more frequent. Teach-back education and simplified regimens may help patients with limited health literacy.",
        pub_types=["Journal Article"],
        mesh=[
            ("Pulmonary Disease, Chronic Obstructive", "drug therapy", True),
            ("Health Literacy", None, True),
            ("Medication Adherence", None, True),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000012,
        title="A smartphone application for smoking cessation among hospital staff: a pilot study.",
        abstract="Forty-two hospital employees who smoked used a smartphone application offering craving tracking, "
        "motivational messages and links to nicotine replacement for eight weeks. Biochemically verified abstinence "
        "at eight weeks was 19%. Engagement fell steeply after the second week. A randomized trial with an "
        "engagement strategy is warranted.",
        pub_types=["Journal Article"],
        mesh=[
            ("Smoking Cessation", "methods", True),
            ("Mobile Applications", None, True),
            ("Personnel, Hospital", None, False),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000013,
        title="Intravenous versus topical tranexamic acid in primary total knee arthroplasty: a randomized "
        "non-inferiority trial.",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Both intravenous and topical tranexamic acid reduce bleeding after knee "
                "replacement, but their relative effectiveness is uncertain.",
            ),
            (
                "METHODS",
                "METHODS",
                "A total of 320 patients undergoing primary unilateral total knee arthroplasty were "
                "randomized to 1 g of intravenous tranexamic acid at incision or 2 g applied topically before closure. "
                "The primary outcome was calculated blood loss.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Mean calculated blood loss was 812 mL with intravenous and 846 mL with topical "
                "administration; the upper limit of the confidence interval for the difference was below the "
                "non-inferiority margin of 150 mL. Two patients in each group received transfusion.",
            ),
            ("CONCLUSIONS", "CONCLUSIONS", "Topical tranexamic acid was non-inferior to intravenous administration."),
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[
            ("Tranexamic Acid", "administration & dosage", True),
            ("Arthroplasty, Replacement, Knee", None, True),
            ("Blood Loss, Surgical", "prevention & control", False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000014,
        title="Exercise therapy for chronic non-specific low back pain: a systematic review and meta-analysis.",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Exercise is widely recommended for chronic low back pain, yet the relative "
                "benefit of different exercise types is unclear.",
            ),
            (
                "METHODS",
                "METHODS",
                "We searched five databases for randomized trials comparing exercise with no "
                "treatment, usual care or another exercise type in adults with pain lasting at least 12 weeks.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Sixty-one trials with 6210 participants were included. Exercise reduced pain by "
                "a mean of 10.4 points on a 100-point scale compared with no treatment (moderate certainty). Pilates "
                "and motor control exercise showed the largest effects, although between-type differences were "
                "imprecise.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "Exercise therapy yields small to moderate improvements in pain and "
                "function; patient preference may reasonably guide the choice of exercise.",
            ),
        ],
        pub_types=["Journal Article", "Systematic Review", "Meta-Analysis"],
        mesh=[
            ("Low Back Pain", "therapy", True),
            ("Exercise Therapy", None, True),
            ("Chronic Pain", None, False),
            ("Humans", None, False),
        ],
        journal=1,
    ),
    dict(
        pmid=90000015,
        title="Statin use and the risk of incident dementia in adults with atherosclerotic cardiovascular disease.",
        abstract="Using linked primary care and hospital records, we identified 41,260 adults with established "
        "atherosclerotic cardiovascular disease and no dementia. Statin exposure was modelled as time-varying. Over "
        "a median of 6.1 years, 2318 participants developed dementia. Current statin use was associated with a "
        "modestly lower risk of all-cause dementia (hazard ratio 0.86; 95% CI 0.78 to 0.95), with no difference "
        "between lipophilic and hydrophilic statins. Residual confounding by healthy adherer effects cannot be "
        "excluded.",
        pub_types=["Journal Article", "Observational Study"],
        mesh=[
            ("Dementia", "epidemiology", True),
            ("Hydroxymethylglutaryl-CoA Reductase Inhibitors", "therapeutic use", True),
            ("Atherosclerosis", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000016,
        title="Comment on: early mobilization after hip fracture surgery.",
        abstract="We read this article with interest. More studies are needed.",
        pub_types=["Letter", "Comment"],
        mesh=[],
        comments_on=90000005,
    ),
    dict(
        pmid=90000017,
        title="Compliance with a one-hour sepsis bundle and in-hospital mortality in emergency departments.",
        abstract=[
            (
                "INTRODUCTION",
                "BACKGROUND",
                "Guidelines recommend that antibiotics, lactate measurement, blood cultures "
                "and fluids be started within one hour of recognizing sepsis.",
            ),
            (
                "METHODS",
                "METHODS",
                "Registry study of 5930 adults with sepsis or septic shock in 12 emergency departments.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "The complete bundle was delivered within one hour in 29% of patients. Each hour "
                "of delay to antibiotics was associated with a 6% relative increase in the odds of in-hospital death in "
                "patients with shock, but not in those without shock.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "Timely antibiotics matter most in septic shock; full bundle completion "
                "within one hour is rarely achieved.",
            ),
        ],
        pub_types=["Journal Article", "Observational Study"],
        mesh=[
            ("Sepsis", "therapy", True),
            ("Emergency Service, Hospital", None, False),
            ("Time-to-Treatment", None, True),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000018,
        title="Epithelial TGF-beta receptor signalling drives fibroblast activation in bleomycin-induced pulmonary "
        "fibrosis.",
        abstract="Transforming growth factor beta is a central mediator of fibrosis, but the contribution of "
        "epithelial signalling is unclear. Mice lacking the type II TGF-beta receptor in alveolar type II cells were "
        "exposed to intratracheal bleomycin. Compared with littermate controls, knockout mice had 45% less lung "
        "hydroxyproline, fewer alpha-smooth muscle actin positive fibroblasts and preserved lung compliance at day 21. "
        "Conditioned medium from knockout epithelial cells induced less collagen synthesis in lung fibroblasts. "
        "Epithelial TGF-beta signalling thus promotes fibroblast activation through paracrine factors.",
        pub_types=["Journal Article"],
        mesh=[
            ("Pulmonary Fibrosis", "metabolism", True),
            ("Transforming Growth Factor beta", "metabolism", True),
            ("Bleomycin", None, False),
            ("Mice", None, False),
            ("Animals", None, False),
        ],
        journal=1,
    ),
    dict(
        pmid=90000019,
        title="Effect of a school-based programme on human papillomavirus vaccine uptake among adolescents.",
        abstract=[
            (
                "PURPOSE",
                "OBJECTIVE",
                "To evaluate whether offering human papillomavirus vaccination in schools, with "
                "reminder letters to parents, increases series completion.",
            ),
            (
                "METHODS",
                "METHODS",
                "Quasi-experimental comparison of 14 intervention and 14 matched control schools "
                "over two academic years, using the regional immunization registry.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Series completion among students aged 11 to 13 years rose from 38% to 67% in "
                "intervention schools and from 36% to 44% in control schools. Gains were largest among students without "
                "a regular primary care provider.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "School-located vaccination substantially improved uptake and may reduce inequities.",
            ),
        ],
        pub_types=["Journal Article"],
        mesh=[
            ("Papillomavirus Vaccines", "administration & dosage", True),
            ("School Health Services", None, True),
            ("Adolescent", None, False),
            ("Humans", None, False),
        ],
        journal=3,
    ),
    dict(
        pmid=90000020,
        title="A 0/1-hour high-sensitivity troponin T algorithm for suspected myocardial infarction in a community "
        "emergency department.",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Rapid rule-out algorithms based on high-sensitivity cardiac troponin were "
                "derived in academic centres with high disease prevalence.",
            ),
            (
                "METHODS",
                "METHODS",
                "We prospectively applied a 0/1-hour high-sensitivity troponin T algorithm to 1284 "
                "consecutive patients with chest pain in a community emergency department. Final diagnoses were "
                "adjudicated by two cardiologists.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Myocardial infarction was diagnosed in 112 patients (8.7%). The algorithm ruled "
                "out 61% of patients with a negative predictive value of 99.8% and a sensitivity of 99.1%. Thirty-day "
                "death or myocardial infarction occurred in one ruled-out patient.",
            ),
            ("CONCLUSIONS", "CONCLUSIONS", "The 0/1-hour algorithm was safe and efficient in a community setting."),
        ],
        pub_types=["Journal Article"],
        mesh=[
            ("Myocardial Infarction", "diagnosis", True),
            ("Troponin T", "blood", True),
            ("Chest Pain", None, False),
            ("Emergency Service, Hospital", None, False),
            ("Humans", None, False),
        ],
        journal=1,
        pmc="PMC9000001",
    ),
    dict(
        pmid=90000021,
        title="Management of diabetic foot ulcers: an update for primary care.",
        abstract="Diabetic foot ulcers precede most non-traumatic lower-limb amputations. This review covers "
        "assessment of neuropathy and peripheral arterial disease, classification of infection severity, offloading "
        "with total contact casts or removable walkers, debridement and the limited evidence for advanced dressings. "
        "Early referral to a multidisciplinary foot team is the intervention most consistently associated with fewer "
        "amputations.",
        pub_types=["Journal Article", "Review"],
        mesh=[
            ("Diabetic Foot", "therapy", True),
            ("Primary Health Care", None, False),
            ("Amputation, Surgical", None, False),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000022,
        title="Iron deficiency and heavy menstrual bleeding in adolescent girls attending a gynaecology clinic.",
        abstract="Among 156 girls aged 12 to 18 years referred for heavy menstrual bleeding, 44% had iron deficiency "
        "defined as ferritin below 15 ug/L and 19% had anaemia. An underlying bleeding disorder was identified in "
        "11%, most often von Willebrand disease. Ferritin should be measured in all adolescents with heavy menstrual "
        "bleeding, and a bleeding disorder should be considered when bleeding has been heavy since menarche.",
        pub_types=["Journal Article"],
        mesh=[
            ("Menorrhagia", "complications", True),
            ("Iron Deficiencies", None, True),
            ("Adolescent", None, False),
            ("Female", None, False),
            ("Humans", None, False),
        ],
        journal=3,
    ),
    dict(
        pmid=90000023,
        title="Brief cognitive behavioural therapy for insomnia delivered by practice nurses: a randomized trial.",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Cognitive behavioural therapy is first-line treatment for chronic insomnia but access is limited.",
            ),
            (
                "METHODS",
                "METHODS",
                "Adults with chronic insomnia in 22 general practices were randomized to four "
                "nurse-delivered sessions of sleep restriction and stimulus control or to sleep hygiene advice.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Among 288 participants, the Insomnia Severity Index improved by 3.9 points more "
                "with the intervention at 6 months. Hypnotic use fell from 31% to 17% with the intervention and from 29% "
                "to 26% with advice.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "Brief nurse-delivered therapy is an effective option for insomnia in primary care.",
            ),
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[
            ("Sleep Initiation and Maintenance Disorders", "therapy", True),
            ("Cognitive Behavioral Therapy", None, True),
            ("Nurses", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000024,
        title="ASTHMA IN CHILDREN.",
        abstract="ASTHMA IS VERY COMMON IN CHILDREN. WE SAW MANY PATIENTS WITH ASTHMA IN OUR CLINIC IN THE LAST YEAR "
        "AND MOST GOT BETTER WITH INHALERS. DOCTORS SHOULD KNOW ABOUT ASTHMA.",
        pub_types=["Journal Article"],
        mesh=[("Asthma", None, True), ("Child", None, False), ("Humans", None, False)],
        journal=3,
    ),
    dict(
        pmid=90000025,
        title="Late preterm antenatal corticosteroids and neonatal hypoglycaemia: a population-based cohort.",
        abstract="Antenatal corticosteroids in the late preterm period reduce respiratory morbidity but may cause "
        "neonatal hypoglycaemia. In 23,400 singleton births at 34 to 36 weeks, exposure to betamethasone was "
        "associated with more hypoglycaemia requiring intravenous glucose (8.9% versus 5.1%) and fewer admissions "
        "for respiratory support (6.2% versus 8.4%). Protocols for glucose monitoring should accompany late preterm "
        "steroid use.",
        pub_types=["Journal Article", "Observational Study"],
        mesh=[
            ("Betamethasone", "adverse effects", True),
            ("Hypoglycemia", "chemically induced", True),
            ("Infant, Newborn", None, False),
            ("Premature Birth", None, False),
            ("Humans", None, False),
        ],
        journal=3,
    ),
    dict(
        pmid=90000026,
        title="A multicomponent delirium prevention bundle for older patients in intensive care.",
        abstract=[
            (
                "OBJECTIVE",
                "OBJECTIVE",
                "To assess a nurse-led bundle of reorientation, sleep protection, early "
                "mobility and sedation minimization for preventing delirium.",
            ),
            (
                "METHODS",
                "METHODS",
                "Stepped-wedge trial in six intensive care units including 1120 patients aged 65 years or older.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Delirium days per patient fell from 2.6 to 1.9, and the proportion of patients "
                "ever delirious from 48% to 40%. Use of physical restraints decreased; mortality did not change.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "A pragmatic nurse-led bundle reduced delirium burden in older critically ill patients.",
            ),
        ],
        pub_types=["Journal Article"],
        mesh=[
            ("Delirium", "prevention & control", True),
            ("Intensive Care Units", None, True),
            ("Aged", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000027,
        title="Genomic surveillance of carbapenem-resistant Klebsiella pneumoniae across a regional hospital network.",
        abstract="Whole-genome sequencing was performed on 214 carbapenem-resistant Klebsiella pneumoniae isolates "
        "collected from nine hospitals over three years. Most isolates carried blaKPC-3 on related plasmids and "
        "belonged to sequence type 512. Core-genome analysis identified 17 clusters, eight of which spanned more than "
        "one hospital, consistent with transmission through shared long-term care facilities. Regional genomic "
        "surveillance revealed transmission pathways missed by single-hospital investigations.",
        pub_types=["Journal Article"],
        mesh=[
            ("Klebsiella pneumoniae", "genetics", True),
            ("Carbapenem-Resistant Enterobacteriaceae", None, True),
            ("Whole Genome Sequencing", None, False),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000028,
        title="Oral anticoagulation for atrial fibrillation in patients with advanced chronic kidney disease.",
        abstract="Patients with atrial fibrillation and an estimated glomerular filtration rate below 30 mL/min were "
        "excluded from the pivotal anticoagulant trials. This review appraises observational data and small trials "
        "comparing apixaban with warfarin in advanced kidney disease and dialysis, discusses dose selection and "
        "bleeding risk, and considers left atrial appendage occlusion as an alternative. Evidence remains of low "
        "certainty, and shared decision-making is essential.",
        pub_types=["Journal Article", "Review"],
        mesh=[
            ("Atrial Fibrillation", "drug therapy", True),
            ("Renal Insufficiency, Chronic", "complications", True),
            ("Anticoagulants", "therapeutic use", False),
            ("Humans", None, False),
        ],
        journal=1,
    ),
    dict(
        pmid=90000029,
        title="Telehealth versus in-person follow-up for depression in rural adults starting antidepressants.",
        abstract=[
            ("BACKGROUND", "BACKGROUND", "Travel distance limits follow-up for depression in rural areas."),
            (
                "METHODS",
                "METHODS",
                "Adults starting an antidepressant in 10 rural clinics were randomized to video "
                "follow-up visits or in-person visits at 2, 6 and 12 weeks.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Of 364 participants, response at 12 weeks was 46% with telehealth and 43% with "
                "in-person care. Attendance was higher with telehealth (89% versus 71% of scheduled visits).",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "Video follow-up was at least as effective as in-person follow-up and improved attendance.",
            ),
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[
            ("Depressive Disorder", "drug therapy", True),
            ("Telemedicine", None, True),
            ("Rural Population", None, False),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000030,
        title="Kawasaki disease in infants younger than six months: a case series.",
        abstract="We reviewed 23 infants younger than six months treated for Kawasaki disease at a children's "
        "hospital. Only 9 met the classic criteria; the others presented with fever and two or three features. "
        "Coronary artery aneurysms developed in 7 infants (30%). Prolonged unexplained fever in young infants should "
        "prompt echocardiography even when the criteria are incomplete.",
        pub_types=["Journal Article", "Case Reports"],
        mesh=[
            ("Mucocutaneous Lymph Node Syndrome", "diagnosis", True),
            ("Coronary Aneurysm", "etiology", False),
            ("Infant", None, False),
            ("Humans", None, False),
        ],
        journal=3,
    ),
    dict(
        pmid=90000031,
        title="Salt substitution and stroke in rural villages: a cluster randomized trial.",
        abstract=[
            (
                "BACKGROUND",
                "BACKGROUND",
                "Salt substitutes that replace part of sodium chloride with potassium "
                "chloride lower blood pressure, but effects on clinical events in high-risk rural populations needed "
                "confirmation.",
            ),
            (
                "METHODS",
                "METHODS",
                "Villages were randomized to receive a free salt substitute (75% sodium chloride, "
                "25% potassium chloride) or to continue usual salt. Participants had previous stroke or were aged 60 "
                "years or older with hypertension.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Among 9830 participants followed for 4.5 years, the rate of stroke was 27.1 "
                "versus 30.2 events per 1000 person-years (rate ratio 0.90). Hyperkalaemia-related serious adverse "
                "events were not increased.",
            ),
            ("CONCLUSIONS", "CONCLUSIONS", "Salt substitution lowered the rate of stroke in high-risk adults."),
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=[
            ("Sodium Chloride, Dietary", None, True),
            ("Stroke", "prevention & control", True),
            ("Potassium Chloride", None, False),
            ("Rural Population", None, False),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000032,
        title="Electronic monitoring of hand hygiene compliance on surgical wards.",
        abstract="An electronic badge system recorded room entries and alcohol rub dispenser use on four surgical "
        "wards. Measured compliance was 42% at baseline and rose to 63% after real-time feedback was introduced, "
        "while direct observation over the same period reported compliance above 85%, illustrating the Hawthorne "
        "effect. Electronic monitoring provides continuous data but must be interpreted with its own limitations.",
        pub_types=["Journal Article"],
        mesh=[
            ("Hand Hygiene", None, True),
            ("Infection Control", "methods", False),
            ("Guideline Adherence", None, False),
            ("Humans", None, False),
        ],
        journal=2,
    ),
    dict(
        pmid=90000033,
        title="Uptake of low-dose computed tomography lung cancer screening after a shared decision-making visit.",
        abstract=[
            ("INTRODUCTION", "BACKGROUND", "Lung cancer screening uptake remains low among eligible adults."),
            (
                "METHODS",
                "METHODS",
                "Cohort of 2150 eligible current and former smokers offered a dedicated shared "
                "decision-making visit in a health system.",
            ),
            (
                "RESULTS",
                "RESULTS",
                "Of those attending the visit, 78% completed a baseline scan within 90 days "
                "compared with 34% of eligible adults who did not attend. Adherence to annual rescreening was 52%.",
            ),
            (
                "CONCLUSIONS",
                "CONCLUSIONS",
                "A dedicated visit was associated with high initial uptake, but rescreening adherence needs attention.",
            ),
        ],
        pub_types=["Journal Article"],
        mesh=[
            ("Lung Neoplasms", "diagnostic imaging", True),
            ("Early Detection of Cancer", None, True),
            ("Tomography, X-Ray Computed", None, False),
            ("Decision Making, Shared", None, False),
            ("Humans", None, False),
        ],
    ),
    dict(
        pmid=90000034,
        title="[Dengue with warning signs in children: clinical features at admission].",
        vernacular="Dengue con signos de alarma en niños: características clínicas al ingreso.",
        abstract="Se revisaron 118 historias clínicas de niños hospitalizados por dengue con signos de alarma. El "
        "dolor abdominal y los vómitos persistentes fueron los signos más frecuentes. La hemoconcentración y la "
        "trombocitopenia menor de 50 000 por microlitro se asociaron con la progresión a dengue grave. Se recomienda "
        "la vigilancia estrecha del hematocrito durante la fase crítica.",
        pub_types=["Journal Article", "English Abstract"],
        mesh=[("Dengue", "diagnosis", True), ("Child", None, False), ("Humans", None, False)],
        language="spa",
        journal=3,
    ),
]

# The update file: a corrected record, a second version, a new record, a planted near-duplicate.
UPDATES: list[dict] = [
    dict(
        RECORDS[2],
        abstract=RECORDS[2]["abstract"]
        .replace("1.41; 95% CI 1.12 to 1.77", "1.38; 95% CI 1.10 to 1.74")
        .replace("8214", "8241"),
        revised=(2025, 2, 3),
    ),
    dict(
        RECORDS[6],
        version=2,
        title="Implementation and two-year outcomes of an antimicrobial stewardship programme "
        "in a 90-bed rural hospital.",
        abstract=RECORDS[6]["abstract"] + " Updated analysis: the reduction in "
        "antibiotic use was sustained in a third year of follow-up (489 days of therapy per 1000 patient-days).",
        revised=(2025, 2, 10),
    ),
    dict(
        pmid=90000035,
        title="Mobilization on the first postoperative day after hip fracture surgery improves early walking.",
        abstract=[
            (
                label,
                cat,
                text.replace("three orthopaedic centres", "four orthopaedic hospitals")
                .replace("240 patients", "248 patients")
                .replace("standard group", "usual-care group"),
            )
            for label, cat, text in RECORDS[4]["abstract"]
        ],
        pub_types=["Journal Article", "Randomized Controlled Trial"],
        mesh=RECORDS[4]["mesh"],
        journal=3,
    ),
    dict(
        pmid=90000036,
        title="Myocarditis after mRNA COVID-19 vaccination in adolescents: six-month cardiac magnetic resonance "
        "follow-up.",
        abstract="Twenty-nine adolescents hospitalized with myocarditis within 14 days of an mRNA COVID-19 vaccine dose "
        "underwent cardiac magnetic resonance at diagnosis and after six months. Symptoms resolved in all patients. "
        "Late gadolinium enhancement persisted in 16 patients but was reduced in extent in 25, and no patient had "
        "ventricular dysfunction at follow-up. Longer follow-up is needed to establish the significance of residual "
        "enhancement.",
        pub_types=["Journal Article"],
        mesh=[
            ("Myocarditis", "etiology", True),
            ("COVID-19 Vaccines", "adverse effects", True),
            ("Adolescent", None, False),
            ("Magnetic Resonance Imaging", None, False),
            ("Humans", None, False),
        ],
        journal=3,
    ),
]
DELETED = [90000012]


def _date(tag: str, y: int, m: int, d: int | None = None, *, month_names: bool = False, attrs: str = "") -> str:
    month = MONTHS[m - 1] if month_names else f"{m:02d}"
    day = f"<Day>{d:02d}</Day>" if d else ""
    return f"<{tag}{attrs}><Year>{y}</Year><Month>{month}</Month>{day}</{tag}>"


def _abstract(abstract: str | list[tuple[str, str, str]]) -> str:
    if isinstance(abstract, str):
        return f"<Abstract><AbstractText>{escape(abstract)}</AbstractText></Abstract>"
    parts = "".join(
        f'<AbstractText Label="{label}" NlmCategory="{cat}">{escape(text)}</AbstractText>'
        for label, cat, text in abstract
    )
    return f"<Abstract>{parts}</Abstract>"


def _mesh(mesh: list[tuple[str, str | None, bool]], pmid: int) -> str:
    if not mesh:
        return ""
    rows = []
    for i, (desc, qual, major) in enumerate(mesh):
        q = (
            f'<QualifierName UI="Q{(pmid + i) % 1000000:06d}" MajorTopicYN="{"Y" if major else "N"}">{escape(qual)}'
            "</QualifierName>"
            if qual
            else ""
        )
        dmaj = "N" if qual else ("Y" if major else "N")
        rows.append(
            f'<MeshHeading><DescriptorName UI="D{(pmid * 7 + i) % 1000000:06d}" MajorTopicYN="{dmaj}">'
            f"{escape(desc)}</DescriptorName>{q}</MeshHeading>"
        )
    return f"<MeshHeadingList>{''.join(rows)}</MeshHeadingList>"


def article_xml(r: dict, *, with_pmid: bool = True) -> str:
    pmid, version = r["pmid"], r.get("version", 1)
    n = pmid - 90000000
    year = 2020 + n % 5
    month = 1 + n % 12
    jtitle, jabbr, issn = JOURNALS[r.get("journal", 0)]
    doi = f"10.5555/demo.{year}.{n:04d}"
    vattr = f' VersionID="{version}" VersionDate="2025/02/10"' if version > 1 else ""
    revised = r.get("revised", (2024, 6, 1))
    authors = "".join(
        f'<Author ValidYN="Y"><LastName>{last}</LastName><ForeName>{first}</ForeName><Initials>{first[0]}</Initials>'
        f"<AffiliationInfo><Affiliation>Department of Demo Medicine, Example University Hospital, Exampletown."
        f"</Affiliation></AffiliationInfo></Author>"
        for last, first in [("Demo", "Alex"), (["Sample", "Placeholder", "Fictive"][n % 3], "Jordan")]
    )
    pub_types = "".join(
        f'<PublicationType UI="{PUB_TYPE_UI.get(p, "D000000")}">{p}</PublicationType>' for p in r["pub_types"]
    )
    comments = (
        f'<CommentsCorrectionsList><CommentsCorrections RefType="CommentOn"><RefSource>Demo Ref. {year}</RefSource>'
        f'<PMID Version="1">{r["comments_on"]}</PMID></CommentsCorrections></CommentsCorrectionsList>'
        if r.get("comments_on")
        else ""
    )
    vernacular = f"<VernacularTitle>{escape(r['vernacular'])}</VernacularTitle>" if r.get("vernacular") else ""
    pmc = f'<ArticleId IdType="pmc">{r["pmc"]}</ArticleId>' if r.get("pmc") else ""
    pmid_el = f'<PMID Version="{version}">{pmid}</PMID>' if with_pmid else ""
    status = "MEDLINE" if version == 1 else "PubMed-not-MEDLINE"
    return (
        f'<PubmedArticle><MedlineCitation Status="{status}" Owner="NLM"{vattr}>{pmid_el}'
        f"{_date('DateCompleted', year, month, 15)}{_date('DateRevised', *revised)}"
        f'<Article PubModel="Print-Electronic"><Journal><ISSN IssnType="Electronic">{issn}</ISSN>'
        f'<JournalIssue CitedMedium="Internet"><Volume>{10 + n % 7}</Volume><Issue>{1 + n % 4}</Issue>'
        f"<PubDate><Year>{year}</Year><Month>{MONTHS[month - 1]}</Month></PubDate></JournalIssue>"
        f"<Title>{jtitle}</Title><ISOAbbreviation>{jabbr}</ISOAbbreviation></Journal>"
        f"<ArticleTitle>{escape(r['title'])}</ArticleTitle>"
        f"<Pagination><StartPage>{100 + n}</StartPage><EndPage>{108 + n}</EndPage>"
        f"<MedlinePgn>{100 + n}-{108 + n}</MedlinePgn></Pagination>"
        f'<ELocationID EIdType="doi" ValidYN="Y">{doi}</ELocationID>'
        f'{_abstract(r["abstract"])}<AuthorList CompleteYN="Y">{authors}</AuthorList>'
        f"<Language>{r.get('language', 'eng')}</Language><PublicationTypeList>{pub_types}</PublicationTypeList>"
        f"{vernacular}{_date('ArticleDate', year, month, 2, attrs=ELECTRONIC)}</Article>"
        f"<MedlineJournalInfo><Country>United States</Country><MedlineTA>{jabbr}</MedlineTA>"
        f"<NlmUniqueID>99900000{r.get('journal', 0)}</NlmUniqueID><ISSNLinking>{issn}</ISSNLinking>"
        f"</MedlineJournalInfo><CitationSubset>IM</CitationSubset>{comments}{_mesh(r['mesh'], pmid)}"
        f"</MedlineCitation><PubmedData><History>"
        f"{_date('PubMedPubDate', year, month, 3, attrs=PUBSTATUS_PUBMED)}"
        f"{_date('PubMedPubDate', year, month, 3, attrs=PUBSTATUS_MEDLINE)}</History>"
        f"<PublicationStatus>ppublish</PublicationStatus><ArticleIdList>"
        f'<ArticleId IdType="pubmed">{pmid}</ArticleId><ArticleId IdType="doi">{doi}</ArticleId>{pmc}'
        f"</ArticleIdList></PubmedData></PubmedArticle>\n"
    )


def write(name: str, body: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    data = (HEADER + body + "</PubmedArticleSet>\n").encode("utf-8")
    with open(OUT / name, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
        gz.write(data)


def main() -> None:
    write("demo_baseline.xml.gz", "".join(article_xml(r) for r in RECORDS))
    malformed = dict(
        pmid=90000099,
        title="A record whose PMID element is missing.",
        abstract="Text of a record that cannot be identified and must be quarantined.",
        pub_types=["Journal Article"],
        mesh=[],
    )
    deletions = "".join(f'<PMID Version="1">{p}</PMID>' for p in DELETED)
    write(
        "demo_update_0001.xml.gz",
        "".join(article_xml(r) for r in UPDATES[:2])
        + article_xml(malformed, with_pmid=False)
        + "".join(article_xml(r) for r in UPDATES[2:])
        + f"<DeleteCitation>{deletions}</DeleteCitation>\n",
    )


if __name__ == "__main__":
    main()
