"""BibTeX for the sources and benchmarks medcurate ingests, cited on the card of every release that holds their rows.

Keys are the `source` values of documents and the `benchmark` values of benchmark items and synthetic rows. A
manifest adds or replaces entries with `release.citations` (e.g. for a tabular source it names itself).
"""

from __future__ import annotations

CITATIONS: dict[str, str] = {
    "pubmed": """@misc{pubmed,
  author       = {{National Library of Medicine}},
  title        = {{MEDLINE/PubMed} citation records},
  howpublished = {\\url{https://pubmed.ncbi.nlm.nih.gov/download/}},
  note         = {Baseline and daily update files}
}""",
    "pmc": """@misc{pmc_oa,
  author       = {{National Library of Medicine}},
  title        = {{PubMed Central} Open Access Subset},
  howpublished = {\\url{https://pmc.ncbi.nlm.nih.gov/tools/openftlist/}}
}""",
    "medqa": """@article{jin2021disease,
  title   = {What Disease Does This Patient Have? A Large-Scale Open Domain Question Answering Dataset from Medical Exams},
  author  = {Jin, Di and Pan, Eileen and Oufattole, Nassim and Weng, Wei-Hung and Fang, Hanyi and Szolovits, Peter},
  journal = {Applied Sciences},
  volume  = {11},
  number  = {14},
  pages   = {6421},
  year    = {2021}
}""",
    "medmcqa": """@inproceedings{pal2022medmcqa,
  title     = {{MedMCQA}: A Large-scale Multi-Subject Multi-Choice Dataset for Medical domain Question Answering},
  author    = {Pal, Ankit and Umapathi, Logesh Kumar and Sankarasubbu, Malaikannan},
  booktitle = {Proceedings of the Conference on Health, Inference, and Learning},
  series    = {Proceedings of Machine Learning Research},
  volume    = {174},
  pages     = {248--260},
  year      = {2022}
}""",
    "pubmedqa": """@inproceedings{jin2019pubmedqa,
  title     = {{PubMedQA}: A Dataset for Biomedical Research Question Answering},
  author    = {Jin, Qiao and Dhingra, Bhuwan and Liu, Zhengping and Cohen, William and Lu, Xinghua},
  booktitle = {Proceedings of EMNLP-IJCNLP 2019},
  pages     = {2567--2577},
  year      = {2019}
}""",
    "mmlu": """@inproceedings{hendrycks2021mmlu,
  title     = {Measuring Massive Multitask Language Understanding},
  author    = {Hendrycks, Dan and Burns, Collin and Basart, Steven and Zou, Andy and Mazeika, Mantas and Song, Dawn
               and Steinhardt, Jacob},
  booktitle = {International Conference on Learning Representations},
  year      = {2021}
}""",
}


def citations_for(names: list[str], extra: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """({name: bibtex} for the names with a citation, [names without one]), manifest entries first."""
    known = {**CITATIONS, **extra}
    found = {n: known[n] for n in names if n in known}
    return found, [n for n in names if n not in known]
