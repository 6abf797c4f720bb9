"""Default parameter values, one cited line each.

Ages are grouped in nine ten-year bands: 0-9, 10-19, ..., 70-79 and 80+. Durations are in
days. The full table with the reasoning behind each derived value is in ``docs/model.md``.
"""

from __future__ import annotations

AGE_BANDS: tuple[str, ...] = (
    "0-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60-69", "70-79", "80+",
)  # fmt: skip

# --- population -----------------------------------------------------------------------------
# Age structure of China, 7th national population census 2020 (National Bureau of Statistics,
# 2021), shares by ten-year band, rounded.
AGE_DISTRIBUTION: tuple[float, ...] = (
    0.119,
    0.108,
    0.124,
    0.156,
    0.145,
    0.154,
    0.104,
    0.059,
    0.026,
)

# Household sizes 1, 2, 3, 4, 5, 6+ (6+ counted as 6) of family households, China 2020 census
# (NBS 2021; mean household size 2.62), rounded.
HOUSEHOLD_SIZE: tuple[float, ...] = (0.254, 0.297, 0.209, 0.132, 0.065, 0.043)

# --- natural history ------------------------------------------------------------------------
# Incubation mean 5.2 d (Li Q et al., NEJM 2020). Infectiousness starts 2.3 d (95 % CI 0.8-3.0)
# before symptom onset (He X et al., Nat Med 2020), so the latent period is 5.2 - 2.3 = 2.9 d;
# spreads chosen so the incubation SD is 2.3 d, as in Lauer SA et al. (Ann Intern Med 2020,
# 181 cases: lognormal, median 5.1 d, SD ~2.4 d).
LATENT_PERIOD = {"dist": "gamma", "mean": 2.9, "sd": 1.8}
PRESYMPTOMATIC_PERIOD = {"dist": "gamma", "mean": 2.3, "sd": 1.5}
# Infectious period after symptom onset: infectiousness peaks on or before onset and falls
# quickly after it (He X et al., Nat Med 2020: 44 % of transmission before onset; Hu S et al.,
# Nat Commun 2021: 59 %, peak 1.8 d before onset). A mean of 2.5 d (SD 1.5) puts 48 % of a
# symptomatic case's transmission before onset, between the two estimates, and gives a mean
# generation interval of ~5.9 d (Hu et al.: 5.7 d; He et al.: serial interval 5.8 d).
INFECTIOUS_AFTER_ONSET = {"dist": "gamma", "mean": 2.5, "sd": 1.5}
# Infections without symptoms: after the presymptomatic-length phase they stay infectious
# 5.0 +/- 2.0 d, 7.3 d in all, inside the 6.5-9.5 d median infectious period of asymptomatic
# cases found by Byrne AW et al. (BMJ Open 2020, rapid review).
ASYMPTOMATIC_PERIOD = {"dist": "gamma", "mean": 5.0, "sd": 2.0}
# Clinical course after onset (non-fatal): median time from onset to clinical recovery about
# 2 weeks for mild cases (Report of the WHO-China Joint Mission on COVID-19, Feb 2020); the SD
# is an assumption.
ONSET_TO_RECOVERY = {"dist": "gamma", "mean": 14.0, "sd": 5.0}
# Onset to death: mean 17.8 d, coefficient of variation 0.45 (Verity R et al., Lancet Infect
# Dis 2020), so SD 8.0 d.
ONSET_TO_DEATH = {"dist": "gamma", "mean": 17.8, "sd": 8.0}
# RT-PCR positivity after onset in survivors: median 20.0 d (IQR 17.0-24.0; 8-37 d) of viral
# RNA shedding, and detectable until death in fatal cases (Zhou F et al., Lancet 2020; 191
# Wuhan inpatients); a gamma of mean 20.5 d and SD 5.5 d has median 20.0 d and IQR 16.4-24.0 d.
# Infections without symptoms shed as long from the time symptoms would have started (an
# assumption: Long QX et al., Nat Med 2020 found similar shedding in asymptomatic people).
PCR_POSITIVE_AFTER_ONSET = {"dist": "gamma", "mean": 20.5, "sd": 5.5}

# Individual variation in infectiousness (superspreading): each infection's infectiousness is
# multiplied by a gamma variate of mean 1 and shape k. With a fixed infectious period offspring
# counts would be negative binomial with dispersion k; the variable period adds variation, so
# the offspring distribution is somewhat more overdispersed than k (docs/model.md, R0).
# k = 0.54 (Riou J & Althaus CL, Euro Surveill 2020, early Wuhan; Bi Q et al., Lancet Infect
# Dis 2020 found 0.58 among Shenzhen contacts); Endo A et al. (Wellcome Open Res 2020)
# estimated k = 0.1 from outbreaks outside China.
DISPERSION = 0.54

# Share of infections that never develop symptoms: overall ~20 % (Buitrago-Garcia D et al.,
# PLoS Med 2020: 20 %, 95 % CI 17-25 %), falling with age as the clinical fraction rises with age
# (Davies NG et al., Nat Med 2020); the age pattern is Davies' rescaled to the 20 % overall share.
ASYMPTOMATIC_FRACTION: tuple[float, ...] = (0.40, 0.35, 0.25, 0.20, 0.18, 0.15, 0.12, 0.10, 0.10)

# P(hospitalised | infected) by age, Verity R et al., Lancet Infect Dis 2020 (percent / 100).
SEVERE_FRACTION: tuple[float, ...] = (
    0.0, 0.000408, 0.0104, 0.0343, 0.0425, 0.0816, 0.118, 0.166, 0.184,
)  # fmt: skip

# Infection fatality ratio by age, Verity R et al., Lancet Infect Dis 2020 (percent / 100).
INFECTION_FATALITY: tuple[float, ...] = (
    0.0000161, 0.0000695, 0.000309, 0.000844, 0.00161, 0.00595, 0.0193, 0.0428, 0.078,
)  # fmt: skip

# Relative infectiousness. Presymptomatic as symptomatic: infectiousness peaks at or just before
# onset (He X et al., Nat Med 2020). An infection that never develops symptoms has 0.35 of a
# symptomatic one's infectiousness over its whole course: the ratio of secondary attack rates
# from asymptomatic vs symptomatic index cases (Buitrago-Garcia D et al., PLoS Med 2020).
RELATIVE_INFECTIOUSNESS = {"presymptomatic": 1.0, "asymptomatic": 0.35, "symptomatic": 1.0}

# Travel speed on the roads (discrete-event engine): 40 km/h, the lower design speed of urban
# arterial roads (主干路, 40-60 km/h) in China's Code for Design of Urban Road Engineering
# (CJJ 37-2012); county and village roads are no faster.
ROAD_SPEED_KMH = 40.0

# Hours of the day between which day trips set out (discrete-event engine): 06:00-18:00.
# A modelling assumption (daytime travel, uniform within the window): no survey of trip
# start times in Xianning is available; set ``mobility.trip_hours`` to change it.
TRIP_HOURS = (6.0, 18.0)
